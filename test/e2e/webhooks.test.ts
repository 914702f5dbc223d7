import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { Temporal } from 'temporal-polyfill';
import { stringify } from 'yaml';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { serverBackend, createTestDatabase, type TestDatabase } from '../support/database.js';
import { LIFE_TILL, lifecycleDeclarations, lifeMobile, seedDueRelinks } from '../support/lifecycle.js';
import { runCli, startService, tempDir, type ServiceProcess } from '../support/process.js';
import { newSecret, overlappingRequests, putSubscription, Receiver } from '../support/receiver.js';
import { basicHeader, TEST_ADMIN_TOKEN } from '../support/server.js';
import { ServiceStorage } from '../support/storage.js';

// SPEC §9.4 across real processes: at least once through a SIGKILL, and several workers on one
// database never sending one attempt twice at the same time.
const ORG = 300;
const SECRETS_KEY = 'e2e-webhooks-secrets-key-0123456789abcdef';
let folder: string;
let configFile: string;
let storage: ServiceStorage;
let receiver: Receiver;
const running: ServiceProcess[] = [];

beforeAll(async () => {
  folder = tempDir('pp-webhooks-');
  configFile = join(folder, 'config.yaml');
  writeFileSync(configFile, stringify(lifecycleDeclarations(10)));
  // One storage for every process of this file: the restart must find what the killed one left.
  storage = await ServiceStorage.create(folder);
  receiver = await Receiver.start();
});
afterEach(async () => {
  for (const service of running.splice(0)) await service.stop();
  receiver.release();
  receiver.assertAllVerified();
});
afterAll(async () => {
  await receiver?.close();
  await storage?.drop();
  rmSync(folder, { recursive: true, force: true });
});

const baseEnv = () => ({
  ...storage.env,
  CONFIG_FILE: configFile,
  ADMIN_TOKEN: TEST_ADMIN_TOKEN,
  SECRETS_KEY,
});

async function start(env: Record<string, string>): Promise<ServiceProcess> {
  const service = await startService(env);
  running.push(service);
  return service;
}

async function linkSub(url: string, from: number, count: number) {
  const response = await fetch(`${url}/v2/partnerProgram/linkCustomer`, {
    method: 'POST',
    headers: { authorization: basicHeader(...LIFE_TILL), 'content-type': 'application/json' },
    body: JSON.stringify({
      linkCustomers: Array.from({ length: count }, (_, i) => ({
        customer: { mobile: lifeMobile(from + i) },
        linkToPartnerPrograms: [
          { partnerProgramName: 'Partner', customerPartnerReference: { partnerMembershipId: 'K' } },
        ],
      })),
    }),
  });
  expect(response.status).toBe(200);
}

async function admin(url: string, path: string) {
  const response = await fetch(url + path, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
  expect(response.status).toBe(200);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return (await response.json()) as any;
}

describe('a delivery process killed mid-request', () => {
  it('delivers after the restart what was in flight and what was waiting, with the same webhook-ids', async () => {
    const env = { ...baseEnv(), WEBHOOK_TIMEOUT_MS: '3000', WEBHOOK_CONCURRENCY: '8' };
    const first = await start(env);
    const secret = newSecret();
    const created = await putSubscription(first.url, TEST_ADMIN_TOKEN, ORG, 'held', {
      url: receiver.url('/held', secret),
      events: ['*'],
      secret,
    });
    expect(created.status).toBe(201);
    let holding = true;
    receiver.answer('/held', () => (holding ? { hang: true } : { status: 200 }));

    await linkSub(first.url, 1, 5);
    const log = (await admin(first.url, `/admin/v1/orgs/${ORG}/events?limit=100`)).events;
    expect(log).toHaveLength(5);
    const ids = log.map((e: { eventId: string }) => e.eventId).sort();
    const held = await receiver.waitForCount('/held', 1, 3_000);
    expect(held.every((r) => r.answeredStatus === undefined)).toBe(true);

    first.child.kill('SIGKILL');
    await first.exited;
    running.splice(running.indexOf(first), 1);
    await receiver.waitFor(() => receiver.requests('/held').every((r) => r.endedAtMs !== undefined), 3_000);
    const inFlight = receiver.requests('/held');
    holding = false;

    const second = await start(env);
    const answered = await receiver.waitFor(
      (received) => {
        const ok = new Set(
          received.filter((r) => r.path === '/held' && r.answeredStatus === 200).map((r) => r.webhookId),
        );
        return ids.every((id: string) => ok.has(id)) ? ok : undefined;
      },
      30_000,
      'every event answered 200 after the restart',
    );
    expect([...answered].sort()).toEqual(ids);
    const resent = receiver.requests('/held').slice(inFlight.length);
    for (const request of inFlight) expect(resent.map((r) => r.webhookId)).toContain(request.webhookId);
    expect(overlappingRequests(receiver.requests('/held'))).toEqual([]);

    const deadline = performance.now() + 5_000;
    let listed: Array<{ eventId: string; status: string }> = [];
    while (performance.now() < deadline) {
      listed = (await admin(second.url, `/admin/v1/orgs/${ORG}/webhooks/held/deliveries?limit=100`)).deliveries;
      if (listed.length === 5 && listed.every((d) => d.status === 'SUCCEEDED')) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(listed.map((d) => [d.eventId, d.status]).sort()).toEqual(ids.map((id: string) => [id, 'SUCCEEDED']));
    expect(await second.stop()).toBe(0);
    running.splice(0);
  }, 60_000);
});

describe('several worker processes', () => {
  it.skipIf(!serverBackend)(
    'two workers on one PostgreSQL deliver 5,000 events, each received, no attempt sent twice at once (PostgreSQL and Citus: a PGlite data folder is single-process by design)',
    async () => {
      const race = await createTestDatabase();
      try {
        await raceWorkers(race);
      } finally {
        await race.drop();
      }
    },
    90_000,
  );
});

async function raceWorkers(race: TestDatabase) {
  const count = 5_000;
  const api = await start({ ...baseEnv(), DATABASE_URL: race.url!, ROLE: 'api' });
  const secret = newSecret();
  expect(
    (
      await putSubscription(api.url, TEST_ADMIN_TOKEN, ORG, 'race', {
        url: receiver.url('/race', secret),
        events: ['*'],
        secret,
      })
    ).status,
  ).toBe(201);
  // A little work per request, so that two senders of one attempt would be seen overlapping.
  receiver.answer('/race', { delayMs: 5 });
  const now = Temporal.Now.instant();
  const ago = (days: number) => now.subtract({ hours: 24 * days }).toString();
  // 5,000 relinks that fell due: the workers' schedulers start them, each with one event.
  await seedDueRelinks(race.db, count, 'SUB', ago(20), ago(1));

  const env = {
    DATABASE_URL: race.url!,
    SECRETS_KEY,
    ROLE: 'worker',
    WEBHOOK_CONCURRENCY: '64',
    SCHEDULER_BATCH_SIZE: '500',
  };
  const workers = [runCli(['serve'], env), runCli(['serve'], env)];
  try {
    const delivered = await receiver.waitFor(
      (received) => {
        const ids = new Set(
          received.filter((r) => r.path === '/race' && r.answeredStatus === 200).map((r) => r.webhookId),
        );
        return ids.size >= count ? ids : undefined;
      },
      60_000,
      `${count} events delivered`,
    );
    const stored = await sql<{ id: string }>`select id from events where org_id = ${ORG}`.execute(race.db);
    expect(stored.rows).toHaveLength(count);
    expect(stored.rows.every((row) => delivered.has(row.id))).toBe(true);
    const requests = receiver.requests('/race');
    expect(requests.every((r) => r.verified)).toBe(true);
    expect(overlappingRequests(requests).map(([a]) => a.webhookId)).toEqual([]);
    const unfinished = async () =>
      Number(
        (await sql<{ n: string }>`select count(*) as n from deliveries where status <> 'SUCCEEDED'`.execute(race.db))
          .rows[0]!.n,
      );
    // Attempts are recorded in batches: give the last flush a moment.
    for (let i = 0; i < 50 && (await unfinished()) > 0; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await unfinished()).toBe(0);
  } finally {
    for (const worker of workers) worker.child.kill('SIGTERM');
    const codes = await Promise.all(workers.map((w) => w.exited));
    expect(codes, workers.map((w) => w.output()).join('\n')).toEqual([0, 0]);
    await api.stop();
  }
}
