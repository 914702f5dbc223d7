import { rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicHeader } from '../support/server.js';
import { backend, serverBackend, createTestDatabase, type TestDatabase } from '../support/database.js';
import { runCli, startService, tempDir, type ServiceProcess } from '../support/process.js';

// The service as a new user runs it: its own process, config/demo.yaml, the seed's examples.
let service: ServiceProcess;
let database: TestDatabase | undefined;
let dataDir: string;
let env: Record<string, string>;
const demoTill = basicHeader('demo.till', 'demo-password');

beforeAll(async () => {
  dataDir = tempDir('pp-e2e-');
  if (serverBackend) {
    database = await createTestDatabase();
    await database.close();
    env = { DATABASE_URL: database.url! };
  } else {
    env = { DATA_DIR: dataDir };
  }
  service = await startService({ ...env, CONFIG_FILE: 'config/demo.yaml' });
});

afterAll(async () => {
  await service?.stop();
  await database?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

function post(path: string, body: unknown) {
  return fetch(service.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: demoTill },
    body: JSON.stringify(body),
  });
}

function isoDaysFromNow(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().replace(/\.\d{3}Z$/, '+00:00');
}

describe('the quick start', () => {
  it('serves health, readiness, the OpenAPI document and the docs page', async () => {
    expect((await fetch(`${service.url}/health`)).status).toBe(200);
    expect(await (await fetch(`${service.url}/ready`)).json()).toEqual({ status: 'ok' });
    const openapi = (await (await fetch(`${service.url}/openapi.json`)).json()) as { openapi: string; paths: object };
    expect(openapi.openapi).toBe('3.1.0');
    expect(Object.keys(openapi.paths)).toEqual(
      expect.arrayContaining([
        '/v2/partnerProgram/linkCustomer',
        '/v2/partnerProgram/customerPartnerProgramUpdate',
        '/v2/partnerProgram/deLinkCustomer',
        '/v2/partnerProgram/customerActivityHistories',
        '/v2/partnerProgram/customerActivityHistory',
        '/v2/customers/lookup',
        '/v3/oauth/token/generate',
        '/health',
        '/ready',
      ]),
    );
    const docs = await fetch(`${service.url}/docs/`);
    expect(docs.status).toBe(200);
    expect(docs.headers.get('content-type')).toContain('text/html');
  });

  it('answers the seed’s first example (dates moved into the future)', async () => {
    const response = await post('/v2/partnerProgram/linkCustomer', {
      linkCustomers: [
        {
          customer: { mobile: '919400000001' },
          linkToPartnerPrograms: [
            {
              partnerProgramName: 'Goldstar',
              customerPartnerReference: {
                partnerMembershipId: '919400000001',
                partnerTierName: 'Gold',
                partnerTierExpiryDate: isoDaysFromNow(400),
                membershipStartDate: isoDaysFromNow(30),
              },
            },
          ],
        },
      ],
    });
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body).toEqual({
      linkCustomers: [
        {
          customer: {
            id: expect.any(Number),
            mobile: '919400000001',
            email: expect.any(String),
            externalId: expect.any(String),
            status: { status: true, code: 1000, message: 'Customer successfully retrieved' },
          },
          linkToPartnerPrograms: [
            { partnerProgramName: 'Goldstar', partnerLinkStatus: { status: true, code: 200, message: 'Success' } },
          ],
        },
      ],
      warnings: [],
    });
  });

  it('answers the seed’s second example, a relink, after a first link to SPP_1', async () => {
    const first = await post('/v2/partnerProgram/linkCustomer', {
      linkCustomers: [
        {
          customer: { mobile: '917800048833' },
          linkToPartnerPrograms: [
            { partnerProgramName: 'SPP_1', customerPartnerReference: { partnerMembershipId: 'SPP-917800048833' } },
          ],
        },
      ],
    });
    expect(first.status).toBe(200);
    const view = (await (
      await fetch(
        `${service.url}/v2/customers/lookup/partnerPrograms?identifierName=mobile&identifierValue=917800048833`,
        {
          headers: { authorization: demoTill },
        },
      )
    ).json()) as { linkedPartnerPrograms: Array<{ partnerProgramMembershipEndDate: string }> };
    const end = new Date(view.linkedPartnerPrograms[0]!.partnerProgramMembershipEndDate);
    const relinkStart = new Date(end.getTime() + 86_400_000).toISOString();
    const relink = await post('/v2/partnerProgram/linkCustomer', {
      linkCustomers: [
        {
          customer: { mobile: '917800048833' },
          linkToPartnerPrograms: [
            { partnerProgramName: 'SPP_1', customerPartnerReference: { membershipStartDate: relinkStart } },
          ],
        },
      ],
    });
    expect(relink.status).toBe(200);
    expect(
      (
        (await relink.json()) as {
          linkCustomers: Array<{ linkToPartnerPrograms: Array<{ partnerLinkStatus: unknown }> }>;
        }
      ).linkCustomers[0]!.linkToPartnerPrograms[0]!.partnerLinkStatus,
    ).toEqual({ status: true, code: 200, message: 'Success' });
  });
});

describe('the process', () => {
  it('refuses a bad setting with a message that names it', async () => {
    const run = runCli(['serve'], { ...env, PORT: 'eighty', TZ: 'Mars/Olympus' });
    expect(await run.exited).toBe(1);
    expect(run.output()).toContain('PORT must be an integer');
    expect(run.output()).toContain('TZ must be an IANA time zone');
  });

  it.skipIf(backend !== 'pglite')(
    'refuses a second process on the same DATA_DIR (PGlite only: one process per data folder)',
    async () => {
      const run = runCli(['serve'], { ...env, PORT: '0' });
      expect(await run.exited).toBe(1);
      expect(run.output()).toContain('is in use by process');
    },
  );

  it.skipIf(!serverBackend)(
    'runs a second instance on the same PostgreSQL, sharing its data (PostgreSQL and Citus)',
    async () => {
      const second = await startService({ ...env, CONFIG_FILE: 'config/demo.yaml' });
      try {
        const response = await fetch(
          `${second.url}/v2/customers/lookup/partnerPrograms?identifierName=mobile&identifierValue=919400000001`,
          {
            headers: { authorization: demoTill },
          },
        );
        const view = (await response.json()) as { linkedPartnerPrograms: Array<{ partnerProgramName: string }> };
        expect(view.linkedPartnerPrograms.map((p) => p.partnerProgramName)).toContain('Goldstar');
      } finally {
        expect(await second.stop()).toBe(0);
      }
    },
  );

  it('finishes a request in flight on SIGTERM, serves no new one, then exits 0', async () => {
    const second = await startService({
      ...env,
      ...(backend === 'pglite' ? { DATA_DIR: tempDir('pp-e2e2-') } : {}),
      CONFIG_FILE: 'config/demo.yaml',
      LOG_LEVEL: 'info',
    });
    // A request whose headers have arrived but whose body is still coming is in flight, whatever
    // the machine's load: SIGTERM falls between the two halves of its body.
    const body = JSON.stringify({
      linkCustomers: [
        {
          customer: { mobile: '919400000001' },
          linkToPartnerPrograms: [
            { partnerProgramName: 'Coalition', customerPartnerReference: { partnerMembershipId: 'C' } },
          ],
        },
      ],
    });
    const { port } = new URL(second.url);
    const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const request = httpRequest(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/v2/partnerProgram/linkCustomer',
          headers: {
            authorization: demoTill,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          },
        },
        (response) => {
          let text = '';
          response.on('data', (chunk: Buffer) => (text += chunk.toString()));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
        },
      );
      request.on('error', reject);
      request.write(body.slice(0, 20));
      setTimeout(() => request.end(body.slice(20)), 500);
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const exit = second.stop();
    // The signal is handled asynchronously: a request is new once the service has said it is stopping.
    await until(() => second.output().includes('"msg":"shutting down"'));
    const late = await fetch(`${second.url}/health`).then(
      (r) => r.status,
      () => 'refused',
    );
    const finished = await answer;
    expect(await exit).toBe(0);
    expect(finished.status).toBe(200);
    expect(JSON.parse(finished.text).linkCustomers[0].linkToPartnerPrograms[0].partnerLinkStatus.code).toBe(200);
    expect([503, 'refused']).toContain(late);
  });
});

async function until(condition: () => boolean): Promise<void> {
  for (let waited = 0; !condition(); waited += 10) {
    if (waited > 10_000) throw new Error('waited 10 s in vain');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
