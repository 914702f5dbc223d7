import pino from 'pino';
import { sql, type KyselyPlugin } from 'kysely';
import { Temporal } from 'temporal-polyfill';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { ManualClock } from '../../src/domain/clock.js';
import { applyDeclarations } from '../../src/domain/configuration/apply.js';
import { checkDeclarations } from '../../src/domain/configuration/declarations.js';
import type { App } from '../../src/http/app-instance.js';
import { serverBackend, createTestDatabase, type TestDatabase } from '../support/database.js';
import { brandDeclarations, customers, mobileOf, NOW, TILL } from '../support/fixtures.js';
import { basicHeader, TEST_ADMIN_TOKEN, TEST_SECRETS } from '../support/server.js';

// SPEC §9: the outbox. Events are written by the statement that writes the change, for every
// batch size; rolled-back batches and idempotent replays write none.

/** Counts the statements the app sends while `counting` is on. */
class StatementCounter implements KyselyPlugin {
  counting = false;
  statements: string[] = [];
  transformQuery: KyselyPlugin['transformQuery'] = (args) => {
    if (this.counting) this.statements.push(args.node.kind);
    return args.node;
  };
  transformResult: KyselyPlugin['transformResult'] = async (args) => args.result;
}

let database: TestDatabase;
let app: App;
let url: string;
const counter = new StatementCounter();
const clock = new ManualClock(Temporal.Instant.from(NOW));

beforeAll(async () => {
  // The lock timeout as server.ts sets it: on every connection, none per batch (its 2010 case below).
  database = await createTestDatabase({ lockTimeoutMs: 300 });
  const declarations = brandDeclarations(0);
  declarations.orgs[0]!.customers = customers(120);
  await applyDeclarations(database.db, checkDeclarations(declarations), { defaultTimezone: 'UTC', clock });
  app = await buildApp({
    config: {
      bodyLimitBytes: 1024 * 1024,
      adminToken: TEST_ADMIN_TOKEN,
      lockTimeoutMs: 300,
      timezone: 'UTC',
      oauthSigningKey: undefined,
    },
    db: database.db.withPlugin(counter),
    databaseLockTimeoutMs: database.lockTimeoutMs,
    clock,
    secrets: TEST_SECRETS,
    logger: pino({ level: 'silent' }),
  });
  url = await app.listen({ port: 0, host: '127.0.0.1' });
  // A subscription to everything and one to delinks only, as the admin API stores them.
  for (const [name, events] of [
    ['all', ['*']],
    ['delinks', ['partnerProgramDelinked']],
  ] as const) {
    await database.db
      .insertInto('webhook_subscriptions')
      .values({
        org_id: 100,
        name,
        url: 'http://127.0.0.1:9/hook',
        events: [...events],
        secret_sealed: TEST_SECRETS.seal('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'),
        headers_sealed: TEST_SECRETS.seal('{}'),
        key_fingerprint: TEST_SECRETS.fingerprint,
        created_at: new Date(),
        updated_at: new Date(),
      })
      .execute();
  }
});

afterAll(async () => {
  await app?.close();
  await database?.drop();
});

async function linkBatch(from: number, count: number, program: string, headers: Record<string, string> = {}) {
  const body = {
    linkCustomers: Array.from({ length: count }, (_, i) => ({
      customer: { mobile: mobileOf(from + i) },
      linkToPartnerPrograms: [
        { partnerProgramName: program, customerPartnerReference: { partnerMembershipId: `M${from + i}` } },
      ],
    })),
  };
  const response = await fetch(`${url}/v2/partnerProgram/linkCustomer`, {
    method: 'POST',
    headers: { authorization: basicHeader(...TILL), 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as { linkCustomers: unknown[] } };
}

function eventsOfCustomers(fromMobile: number, count: number) {
  const mobiles = Array.from({ length: count }, (_, i) => mobileOf(fromMobile + i));
  return database.db
    .selectFrom('events as e')
    .innerJoin('customers as c', (j) => j.onRef('c.org_id', '=', 'e.org_id').onRef('c.id', '=', 'e.customer_id'))
    .select(['e.seq', 'e.event_name', 'e.api_request_id', 'e.source', 'e.data', 'c.mobile'])
    .where('c.mobile', 'in', mobiles)
    .orderBy('e.seq')
    .execute();
}

describe('the outbox', () => {
  it('writes a batch with its events in as many statements for 50 customers as for 1', async () => {
    const counted = async (from: number, count: number) => {
      counter.statements = [];
      counter.counting = true;
      const { status } = await linkBatch(from, count, 'Coalition');
      counter.counting = false;
      expect(status).toBe(200);
      return counter.statements.length;
    };
    // The first request of a credential warms nothing the count depends on; count it anyway apart.
    await counted(1, 1);
    const one = await counted(2, 1);
    const fifty = await counted(3, 50);
    expect(fifty).toBe(one);
    expect(await eventsOfCustomers(3, 50)).toHaveLength(50);
  });

  it('writes one event per change, carrying the X-Request-Id, and one delivery per matching active subscription', async () => {
    const { body } = await linkBatch(60, 3, 'Goldstar', { 'x-request-id': 'req-outbox-1' });
    expect(body.linkCustomers).toHaveLength(3);
    const events = await eventsOfCustomers(60, 3);
    expect(events.map((e) => [e.event_name, e.api_request_id, e.source])).toEqual(
      Array.from({ length: 3 }, () => ['partnerProgramLinked', 'req-outbox-1', 'API']),
    );
    expect(JSON.parse(events[0]!.data)).toMatchObject({
      partnerProgramName: 'Goldstar',
      partnerProgramType: 'EXTERNAL',
      customerPartnerProgramDetails: { membershipNumber: 'M60', partnerTierNumber: 1, partnerTierName: 'Silver' },
    });
    const deliveries = await database.db
      .selectFrom('deliveries as d')
      .innerJoin('webhook_subscriptions as s', (j) =>
        j.onRef('s.org_id', '=', 'd.org_id').onRef('s.id', '=', 'd.subscription_id'),
      )
      .select(['s.name', 'd.status', 'd.attempts'])
      .where(
        'd.event_seq',
        'in',
        events.map((e) => e.seq),
      )
      .execute();
    // "delinks" names another event: only "all" gets these.
    expect(deliveries).toEqual(Array.from({ length: 3 }, () => ({ name: 'all', status: 'PENDING', attempts: 0 })));
  });

  it('writes no event for a failed entry or an idempotent replay', async () => {
    const before = await eventCount();
    // An entry that fails (the program does not exist) changes nothing and says nothing.
    const failed = await linkBatch(70, 1, 'NoSuchProgram');
    expect(JSON.stringify(failed.body)).toMatch(/"status":false/);
    expect(await eventCount()).toBe(before);
    const first = await linkBatch(71, 1, 'Coalition', { 'idempotency-key': 'outbox-replay' });
    const replay = await linkBatch(71, 1, 'Coalition', { 'idempotency-key': 'outbox-replay' });
    expect(replay.body).toEqual(first.body);
    expect(await eventCount()).toBe(before + 1);
  });

  // One PGlite connection cannot hold a row lock while the service works: the busy case needs PostgreSQL.
  it.skipIf(!serverBackend)(
    'writes no event for a batch rolled back because a customer is busy (2010; PostgreSQL and Citus)',
    async () => {
      const before = await eventCount();
      let release!: () => void;
      let locked!: () => void;
      const isLocked = new Promise<void>((resolve) => (locked = resolve));
      const holder = database.db.transaction().execute(async (trx) => {
        await sql`select id from customers where org_id = 100 and mobile = ${mobileOf(81)} for update`.execute(trx);
        locked();
        await new Promise<void>((resolve) => (release = resolve));
      });
      await isLocked;
      // Customer 80 would link; customer 81 is held: the whole batch rolls back.
      const busy = await linkBatch(80, 2, 'Coalition');
      release();
      await holder;
      expect(JSON.stringify(busy.body)).toContain('2010');
      expect(await eventCount()).toBe(before);
    },
  );
});

async function eventCount(): Promise<number> {
  const row = await database.db
    .selectFrom('events')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
