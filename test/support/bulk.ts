import { createServer, type Server } from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { stringify } from 'yaml';
import type { Declarations } from '../../src/domain/configuration/declarations.js';
import { runCli } from './process.js';
import { TEST_ADMIN_TOKEN } from './server.js';

/** An org for the bulk commands: programs for every outcome the tests look for, a till and an OAuth client. */
export const BULK_ORG = 400;
export const BULK_LOYALTY_PROGRAM = 40;
export const BULK_TILL = { PP_USERNAME: 'bulk.till', PP_PASSWORD: 'bulk-till-password' };
export const BULK_OAUTH = { PP_OAUTH_KEY: 'bulk-client', PP_OAUTH_SECRET: 'bulk-client-secret-0123' };
export const bulkMobile = (n: number) => `9150${String(n).padStart(8, '0')}`;

export function bulkDeclarations(customers: number): Declarations {
  return {
    orgs: [
      {
        id: BULK_ORG,
        name: 'Bulk',
        timezone: 'UTC',
        configs: { ALLOW_MEMBERSHIP_RELINKING: true },
        loyaltyPrograms: [
          {
            id: BULK_LOYALTY_PROGRAM,
            name: 'Main',
            partnerPrograms: [
              { name: 'Gold', type: 'EXTERNAL', tiers: ['Silver', 'Gold'] },
              { name: 'Plain', type: 'EXTERNAL' },
              { name: 'Bulk', type: 'EXTERNAL' },
            ],
          },
        ],
        tills: [
          {
            username: BULK_TILL.PP_USERNAME,
            password: BULK_TILL.PP_PASSWORD,
            accessGroups: ['DEFAULT', 'PARTNER_PROGRAM'],
          },
        ],
        oauthClients: [
          {
            key: BULK_OAUTH.PP_OAUTH_KEY,
            secret: BULK_OAUTH.PP_OAUTH_SECRET,
            accessGroups: ['DEFAULT', 'PARTNER_PROGRAM'],
          },
        ],
        customers: Array.from({ length: customers }, (_, i) => ({
          mobile: bulkMobile(i + 1),
          loyaltyPrograms: [BULK_LOYALTY_PROGRAM],
        })),
      },
    ],
  };
}

export function writeBulkConfig(folder: string, customers: number): string {
  const path = join(folder, 'config.yaml');
  writeFileSync(path, stringify(bulkDeclarations(customers)));
  return path;
}

/** Runs `partner-programs <args>` as its own process and waits for it: exit code, stdout, stderr. */
export async function runBulkCli(args: string[], env: Record<string, string>) {
  const run = runCli(args, env);
  const code = await run.exited;
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

export function readCsv(path: string): string[][] {
  return parse(readFileSync(path), { bom: true, relax_column_count: true });
}

export async function adminPost(url: string, path: string, body: unknown): Promise<unknown> {
  const response = await fetch(url + path, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status} ${await response.text()}`);
  return response.json();
}

/**
 * An HTTP server in front of the service that passes every request on and keeps the bodies of
 * link requests (what the command sent, as the service received it) and every request's path
 * and answer status. `before` runs ahead of passing a request on.
 */
export async function recordingProxy(
  target: () => string,
  before: (path: string) => Promise<void> = async () => {},
): Promise<{
  url: string;
  bodies: unknown[];
  answers: Array<{ path: string; status: number }>;
  close(): Promise<void>;
}> {
  const bodies: unknown[] = [];
  const answers: Array<{ path: string; status: number }> = [];
  const server: Server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    if (request.url?.startsWith('/v2/partnerProgram/linkCustomer')) bodies.push(JSON.parse(body.toString()));
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (typeof value === 'string' && !['host', 'connection', 'content-length'].includes(name)) headers[name] = value;
    }
    await before(request.url ?? '');
    const answer = await fetch(target() + request.url, {
      method: request.method,
      headers,
      body: request.method === 'GET' ? undefined : body,
    });
    const text = await answer.text();
    answers.push({ path: request.url ?? '', status: answer.status });
    response.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
    response.end(text);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    bodies,
    answers,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
