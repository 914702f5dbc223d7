import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Declarations } from '../../src/domain/configuration/declarations.js';
import { tillSecretOf } from '../../src/domain/credentials.js';
import { startService, tempDir } from '../support/process.js';
import { Receiver } from '../support/receiver.js';
import { ServiceStorage } from '../support/storage.js';

// SPEC §2b across a real process at LOG_LEVEL=trace: no line of the whole run carries a secret
// the requests sent, the service made or its settings hold, and every request's lines carry
// its request id.
const unique = randomBytes(6).toString('hex');
const TILL = { username: 'logs.till', password: `till-password-${unique}` };
const WRONG_PASSWORD = `wrong-password-${unique}`;
const CLIENT = { key: 'logs-client', secret: `client-secret-${unique}` };
const WRONG_CLIENT_SECRET = `wrong-client-secret-${unique}`;
const ADMIN_TOKEN = `logs-admin-token-${unique}-0123456789abcdef`;
const WRONG_ADMIN_TOKEN = `wrong-admin-token-${unique}-0123456789abcdef`;
const SECRETS_KEY = `logs-secrets-key-${unique}-0123456789abcdef`;
const RECEIVER_TOKEN = `receiver-token-${unique}`;
const ADMIN_SET_PASSWORD = `admin-set-password-${unique}`;
const ADMIN_SET_CLIENT_SECRET = `admin-set-client-secret-${unique}`;
const SIGNING_KEY = generateKeyPairSync('rsa', { modulusLength: 2048 })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();

const basic = (username: string, password: string) =>
  `Basic ${Buffer.from(`${username}:${tillSecretOf(password)}`).toString('base64')}`;

function declarations(): Declarations {
  return {
    orgs: [
      {
        id: 100,
        name: 'Logs',
        timezone: 'Asia/Kolkata',
        loyaltyPrograms: [
          {
            id: 1,
            name: 'Main',
            partnerPrograms: [{ name: 'Club', type: 'EXTERNAL', tiers: ['Blue', 'Black'] }],
          },
        ],
        tills: [{ ...TILL, accessGroups: ['DEFAULT', 'PARTNER_PROGRAM'] }],
        oauthClients: [{ ...CLIENT, accessGroups: ['DEFAULT'] }],
        customers: [{ mobile: '919500000001', loyaltyPrograms: [1] }],
      },
    ],
  };
}

interface Sent {
  id: string;
  status: number;
  answeredId: string | null;
}

let folder: string;
let storage: ServiceStorage | undefined;
let receiver: Receiver;
let output = '';
const sent: Sent[] = [];
/** Every secret value of the run, by what it is. */
const secrets: Record<string, string> = {};

beforeAll(async () => {
  folder = tempDir('pp-logs-');
  const configFile = join(folder, 'config.yaml');
  writeFileSync(configFile, stringify(declarations()));
  storage = await ServiceStorage.create(folder);
  receiver = await Receiver.start();
  const service = await startService({
    ...storage.env,
    CONFIG_FILE: configFile,
    LOG_LEVEL: 'trace',
    ADMIN_TOKEN,
    SECRETS_KEY,
    OAUTH_SIGNING_KEY: SIGNING_KEY,
  });
  try {
    await driveRequests(service.url);
  } finally {
    await service.stop();
  }
  output = service.output();
}, 120_000);

afterAll(async () => {
  await receiver?.close();
  await storage?.drop();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

async function send(
  url: string,
  id: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<Response> {
  const response = await fetch(url + path, {
    method,
    headers: { 'x-request-id': id, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body,
  });
  sent.push({ id, status: response.status, answeredId: response.headers.get('x-request-id') });
  return response;
}

/** Every way a secret reaches the service, each request with an X-Request-Id of its own. */
async function driveRequests(url: string): Promise<void> {
  const till = { authorization: basic(TILL.username, TILL.password) };
  const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
  expect((await send(url, 'logs-programs-basic', 'GET', '/v2/organization/programs', till)).status).toBe(200);

  const tokenAnswer = await send(url, 'logs-token', 'POST', '/v3/oauth/token/generate', {}, JSON.stringify(CLIENT));
  expect(tokenAnswer.status).toBe(200);
  const token = ((await tokenAnswer.json()) as { data: { accessToken: string } }).data.accessToken;
  const oauth = { 'x-cap-api-oauth-token': token };
  expect((await send(url, 'logs-programs-oauth', 'GET', '/v2/organization/programs', oauth)).status).toBe(200);
  const bearer = { authorization: `Bearer ${token}` };
  expect((await send(url, 'logs-programs-bearer', 'GET', '/v2/organization/programs', bearer)).status).toBe(200);

  const wrongTill = { authorization: basic(TILL.username, WRONG_PASSWORD) };
  expect((await send(url, 'logs-wrong-password', 'GET', '/v2/organization/programs', wrongTill)).status).toBe(401);
  const wrongSecret = JSON.stringify({ key: CLIENT.key, secret: WRONG_CLIENT_SECRET });
  expect((await send(url, 'logs-wrong-secret', 'POST', '/v3/oauth/token/generate', {}, wrongSecret)).status).toBe(401);
  const truncated = JSON.stringify(CLIENT).slice(0, -2);
  expect((await send(url, 'logs-malformed-body', 'POST', '/v3/oauth/token/generate', {}, truncated)).status).toBe(400);

  const subscription = JSON.stringify({
    url: receiver.url('/hooks'),
    events: ['*'],
    headers: { Authorization: `Bearer ${RECEIVER_TOKEN}` },
  });
  const created = await send(url, 'logs-webhook', 'PUT', '/admin/v1/orgs/100/webhooks/hooks', admin, subscription);
  expect(created.status).toBe(201);
  const webhookSecret = ((await created.json()) as { secret: string }).secret;
  expect(webhookSecret).toMatch(/^whsec_/);
  receiver.useSecret('/hooks', webhookSecret);
  const wrongAdmin = { authorization: `Bearer ${WRONG_ADMIN_TOKEN}` };
  expect((await send(url, 'logs-wrong-admin', 'GET', '/admin/v1/orgs', wrongAdmin)).status).toBe(401);
  const tillBody = JSON.stringify({ password: ADMIN_SET_PASSWORD, accessGroups: ['DEFAULT'] });
  expect([200, 201]).toContain(
    (await send(url, 'logs-put-till', 'PUT', '/admin/v1/orgs/100/tills/t2', admin, tillBody)).status,
  );
  const clientBody = JSON.stringify({ secret: ADMIN_SET_CLIENT_SECRET, accessGroups: ['DEFAULT'] });
  const putClient = await send(url, 'logs-put-client', 'PUT', '/admin/v1/orgs/100/oauthClients/c2', admin, clientBody);
  expect([200, 201]).toContain(putClient.status);

  const linkBody = JSON.stringify({
    linkCustomers: [
      {
        customer: { mobile: '919500000001' },
        linkToPartnerPrograms: [
          { partnerProgramName: 'Club', customerPartnerReference: { partnerMembershipId: 'M1' } },
        ],
      },
    ],
  });
  expect((await send(url, 'logs-link', 'POST', '/v2/partnerProgram/linkCustomer', till, linkBody)).status).toBe(200);
  expect((await send(url, 'logs-unknown-path', 'GET', '/v2/nothing-here', till)).status).toBe(404);
  expect((await send(url, 'not a valid id!', 'GET', '/v2/organization/programs', oauth)).status).toBe(200);
  await refusedByTheParser(url, till.authorization, token);
  await receiver.waitFor((received) => received.length > 0, 10_000, 'the link event');

  Object.assign(secrets, {
    'till password': TILL.password,
    'md5 of the till password': tillSecretOf(TILL.password),
    'Basic credentials': till.authorization.slice('Basic '.length),
    'wrong password': WRONG_PASSWORD,
    'md5 of the wrong password': tillSecretOf(WRONG_PASSWORD),
    'wrong Basic credentials': wrongTill.authorization.slice('Basic '.length),
    'OAuth client secret': CLIENT.secret,
    'wrong OAuth client secret': WRONG_CLIENT_SECRET,
    'OAuth access token': token,
    "OAuth access token's signature": token.split('.')[2]!,
    'admin token': ADMIN_TOKEN,
    'wrong admin token': WRONG_ADMIN_TOKEN,
    SECRETS_KEY,
    OAUTH_SIGNING_KEY: SIGNING_KEY.split('\n')[5]!,
    'webhook secret': webhookSecret,
    "webhook secret's key": webhookSecret.slice('whsec_'.length),
    "receiver's Authorization header": RECEIVER_TOKEN,
    'till password set through the admin API': ADMIN_SET_PASSWORD,
    'OAuth client secret set through the admin API': ADMIN_SET_CLIENT_SECRET,
  });
}

/** A control character in a header: Node's parser refuses it and the raw bytes reach the debug line. */
async function refusedByTheParser(url: string, authorization: string, token: string): Promise<void> {
  const { port } = new URL(url);
  await new Promise<void>((resolve) => {
    const socket = connect(Number(port), '127.0.0.1');
    socket.setTimeout(5000, () => socket.destroy());
    socket.on('data', () => undefined);
    // The server resets the connection after its answer; the close is what is awaited.
    socket.on('error', () => undefined);
    socket.on('close', () => resolve());
    socket.write(
      `GET /health HTTP/1.1\r\nHost: t\r\nAuthorization: ${authorization}\r\n` +
        `X-CAP-API-OAUTH-TOKEN: ${token}\r\nX-Request-Id: logs-refused\r\nX-Bad: a\x0bb\r\n\r\n`,
    );
  });
}

interface Line {
  level: number;
  msg?: string;
  reqId?: string;
  req?: { url: string };
  res?: { statusCode: number };
  [key: string]: unknown;
}

const lines = (): Line[] =>
  output
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Line);

/** The text of every Buffer a line serialised (`{"type":"Buffer","data":[…]}`), so bytes are searched too. */
function bufferTexts(text: string): string {
  return [...text.matchAll(/"type":"Buffer","data":\[([\d,]*)\]/g)]
    .map((match) => Buffer.from(match[1]!.split(',').filter(Boolean).map(Number)).toString('latin1'))
    .join('\n');
}

// Lines of the process and of its jobs carry no request id; every other line is a request's.
const PROCESS_LINE = /^(database ready|configuration applied|scheduler caught up|Server listening at |shutting down)/;
const JOB_LINE = /^(scheduler|webhook|delivery|purged|due work)/i;

describe('the logs of a run at LOG_LEVEL=trace', () => {
  it('are JSON lines, the debug line of a refused request among them', () => {
    const all = lines();
    expect(all.length).toBeGreaterThan(2 * sent.length);
    const refused = all.find((line) => line.msg === 'malformed HTTP request');
    expect(refused, 'the parser refusal is logged at debug').toBeDefined();
    expect(refused!.level).toBe(20);
    expect(refused!.err).toMatchObject({ code: 'HPE_INVALID_HEADER_TOKEN', rawPacket: '[redacted]' });
  });

  it('carry no secret: not a password, its md5, Basic credentials, a token, a key or a webhook secret', () => {
    expect(Object.keys(secrets)).toHaveLength(19);
    const searched = output + bufferTexts(output);
    for (const [what, value] of Object.entries(secrets)) {
      expect(value.length, what).toBeGreaterThanOrEqual(16);
      expect(searched.includes(value), `${what} is in the logs`).toBe(false);
    }
    expect(output).toContain('[redacted]');
  });

  it("answer each request's X-Request-Id and carry it on every line of the request", () => {
    const all = lines();
    for (const request of sent) {
      const id = request.id === 'not a valid id!' ? request.answeredId! : request.id;
      if (request.id === 'not a valid id!') expect(id).toMatch(/^[0-9a-f-]{36}$/);
      else expect(request.answeredId).toBe(request.id);
      const own = all.filter((line) => line.reqId === id);
      expect(own.map((line) => line.msg)).toEqual(expect.arrayContaining(['incoming request', 'request completed']));
      expect(own.find((line) => line.msg === 'request completed')!.res).toEqual({ statusCode: request.status });
    }
    expect(all.some((line) => line.reqId === 'not a valid id!')).toBe(false);
  });

  it('leave no line of a request without its id', () => {
    const all = lines();
    const ours = new Set(sent.map((request) => (request.id === 'not a valid id!' ? request.answeredId : request.id)));
    for (const line of all.filter((l) => l.reqId === undefined)) {
      expect(line.req ?? line.res ?? line.responseTime, JSON.stringify(line)).toBeUndefined();
      const known = PROCESS_LINE.test(line.msg ?? '') || JOB_LINE.test(line.msg ?? '');
      expect(known || line.msg === 'malformed HTTP request', `a line without reqId: ${JSON.stringify(line)}`).toBe(
        true,
      );
    }
    // The only requests not ours are startService's readiness probes.
    const others = all.filter((line) => line.reqId !== undefined && !ours.has(line.reqId) && line.req);
    expect(others.map((line) => line.req!.url).filter((url) => url !== '/ready')).toEqual([]);
  });
});
