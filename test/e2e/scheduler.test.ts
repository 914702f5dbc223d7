import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyDeclarations } from '../../src/domain/configuration/apply.js';
import { ManualClock } from '../../src/domain/clock.js';
import { backend, serverBackend, createTestDatabase, type TestDatabase } from '../support/database.js';
import {
  activitiesOf,
  LIFE_TILL,
  lifecycleDeclarations,
  lifeMobile,
  seedDueRelinks,
  storedMembership,
} from '../support/lifecycle.js';
import { runCli, startService, tempDir } from '../support/process.js';
import { basicHeader, TEST_ADMIN_TOKEN } from '../support/server.js';
import { ServiceStorage } from '../support/storage.js';
import { Temporal } from 'temporal-polyfill';

// The scheduler as separate processes: racing workers, restarts, and the sandbox clock.
let folder: string;
let configFile: string;
let storage: ServiceStorage;
const auth = { authorization: basicHeader(...LIFE_TILL), 'content-type': 'application/json' };
const admin = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
const adminJson = { ...admin, 'content-type': 'application/json' };

beforeAll(async () => {
  folder = tempDir('pp-jobs-');
  configFile = join(folder, 'config.yaml');
  writeFileSync(configFile, stringify(lifecycleDeclarations(5)));
  storage = await ServiceStorage.create(folder);
});

afterAll(async () => {
  await storage?.drop();
  rmSync(folder, { recursive: true, force: true });
});

function daysFromNow(days: number): string {
  return Temporal.Now.instant()
    .add({ hours: 24 * days })
    .toString();
}

describe('worker processes', () => {
  it.skipIf(!serverBackend)(
    'two workers on one PostgreSQL activate 10,000 due relinks, none missed, none twice (PostgreSQL and Citus)',
    async () => {
      const race = await createTestDatabase();
      try {
        await raceWorkers(race);
      } finally {
        await race.drop();
      }
    },
  );

  it.skipIf(backend !== 'pglite')(
    'refuses a worker process beside a running service on one DATA_DIR (PGlite only: one process per data folder)',
    async () => {
      const service = await startService({ ...storage.env, CONFIG_FILE: configFile });
      try {
        const worker = runCli(['jobs', 'run', '--once'], storage.env);
        expect(await worker.exited).toBe(1);
        expect(worker.output()).toContain('is in use by process');
      } finally {
        expect(await service.stop()).toBe(0);
      }
    },
    60_000,
  );
});

async function raceWorkers(race: TestDatabase) {
  const db = race.db;
  await applyDeclarations(db, lifecycleDeclarations(0), {
    defaultTimezone: 'UTC',
    clock: new ManualClock(Temporal.Now.instant()),
  });
  await seedDueRelinks(db, 10_000, 'SUB', daysFromNow(-20), daysFromNow(-1));
  const env = { DATABASE_URL: race.url!, SCHEDULER_BATCH_SIZE: '250', LOG_LEVEL: 'info' };
  const workers = [runCli(['jobs', 'run', '--once'], env), runCli(['jobs', 'run', '--once'], env)];
  expect(await Promise.all(workers.map((w) => w.exited))).toEqual([0, 0]);
  const handled = workers.map((w) => /"transitions":(\d+)/.exec(w.output())?.[1]).map(Number);
  expect(handled[0]! + handled[1]!).toBe(10_000);
  expect(handled.every((n) => n > 0)).toBe(true);
  const counts = await db
    .selectFrom('membership_activities')
    .select(['membership_id'])
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('activity_type', '=', 'SUPPLEMENTARY_MEMBERSHIP_STARTED')
    .where('source', '=', 'JOB')
    .groupBy('membership_id')
    .execute();
  expect(counts).toHaveLength(10_000);
  expect(counts.filter((c) => Number(c.n) !== 1)).toEqual([]);
  const active = await db
    .selectFrom('memberships')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('state', '=', 'ACTIVE')
    .executeTakeFirstOrThrow();
  expect(Number(active.n)).toBe(10_000);
}

describe('the sandbox clock and restarts', () => {
  const mobile = lifeMobile(1);
  const link = (url: string, body: unknown) =>
    fetch(`${url}/v2/partnerProgram/linkCustomer`, { method: 'POST', headers: auth, body: JSON.stringify(body) });

  it('catches up after a restart on everything that fell due while no scheduler ran', async () => {
    const env = {
      ...storage.env,
      CONFIG_FILE: configFile,
      ALLOW_CLOCK_OVERRIDE: 'true',
      ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    };
    const api = await startService({ ...env, ROLE: 'api' });
    try {
      expect(
        (
          await link(api.url, {
            linkCustomers: [
              {
                customer: { mobile },
                linkToPartnerPrograms: [
                  { partnerProgramName: 'LATER', customerPartnerReference: { partnerMembershipId: 'R' } },
                ],
              },
            ],
          })
        ).status,
      ).toBe(200);
      const relinkStart = daysFromNow(20);
      expect(
        (
          await link(api.url, {
            linkCustomers: [
              {
                customer: { mobile },
                linkToPartnerPrograms: [
                  { partnerProgramName: 'LATER', customerPartnerReference: { membershipStartDate: relinkStart } },
                ],
              },
            ],
          })
        ).status,
      ).toBe(200);
      const moved = await fetch(`${api.url}/admin/v1/clock`, {
        method: 'PUT',
        headers: adminJson,
        body: JSON.stringify({ now: daysFromNow(25) }),
      });
      expect(moved.status).toBe(200);
      expect(await moved.json()).toMatchObject({ overridden: true });
    } finally {
      expect(await api.stop()).toBe(0);
    }
    const before = await storage.use((db) => storedMembership(db, mobile, 'LATER'));
    expect(before?.state).toBe('ACTIVE'); // no scheduler has run: the row still holds the first period

    const all = await startService({ ...env, ROLE: 'all' });
    expect(await all.stop()).toBe(0);
    const after = await storage.use(async (db) => ({
      membership: await storedMembership(db, mobile, 'LATER'),
      activities: (await activitiesOf(db, mobile, 'LATER')).map(([type, , source]) => `${type}/${source}`),
    }));
    expect(after.membership).toMatchObject({
      state: 'ACTIVE',
      pending_relink_start_at: null,
      partner_membership_id: 'R',
    });
    expect(after.activities).toEqual([
      'ENROLLMENT/API',
      'SUPPLEMENTARY_MEMBERSHIP_STARTED/API',
      'RELINK_SCHEDULED/API',
      'SUPPLEMENTARY_MEMBERSHIP_EXPIRED/JOB',
      'SUPPLEMENTARY_MEMBERSHIP_STARTED/JOB',
    ]);
  });

  it('moves a running scheduler within a second, and returns to real time', async () => {
    const env = {
      ...storage.env,
      CONFIG_FILE: configFile,
      ALLOW_CLOCK_OVERRIDE: 'true',
      ADMIN_TOKEN: TEST_ADMIN_TOKEN,
      SCHEDULER_INTERVAL_MS: '60000',
    };
    const service = await startService(env);
    const clockUrl = `${service.url}/admin/v1/clock`;
    try {
      expect((await fetch(clockUrl, { method: 'DELETE', headers: admin })).status).toBe(200);
      const other = lifeMobile(2);
      await link(service.url, {
        linkCustomers: [
          {
            customer: { mobile: other },
            linkToPartnerPrograms: [
              { partnerProgramName: 'SUB', customerPartnerReference: { partnerMembershipId: 'S' } },
            ],
          },
        ],
      });
      // 30-day periods with reminders 7 and 1 days before the end: move to 6 days before it.
      await fetch(clockUrl, { method: 'PUT', headers: adminJson, body: JSON.stringify({ now: daysFromNow(24) }) });
      const reminded = await waitFor(async () => {
        const history = await fetch(
          `${service.url}/v2/partnerProgram/customerActivityHistories?identifierName=mobile&identifierValue=${other}&activityType=LINKINGUPDATES`,
          { headers: auth },
        );
        const body = (await history.json()) as {
          data: Array<{ customerActivityHistory: Array<{ activityType: string }> }>;
        };
        return body.data[0]?.customerActivityHistory.some(
          (a) => a.activityType === 'SUPPLEMENTARY_MEMBERSHIP_EXPIRY_REMINDER',
        );
      }, 1500);
      expect(reminded).toBe(true);
      const back = await fetch(clockUrl, { method: 'DELETE', headers: admin });
      expect(await back.json()).toMatchObject({ overridden: false });
      const now = (await (await fetch(clockUrl, { headers: admin })).json()) as { now: string };
      expect(Math.abs(Date.parse(now.now) - Date.now())).toBeLessThan(5_000);
    } finally {
      expect(await service.stop()).toBe(0);
    }
  });

  it('refuses to move the clock unless ALLOW_CLOCK_OVERRIDE is on', async () => {
    const service = await startService({ ...storage.env, CONFIG_FILE: configFile, ADMIN_TOKEN: TEST_ADMIN_TOKEN });
    try {
      const refused = await fetch(`${service.url}/admin/v1/clock`, {
        method: 'PUT',
        headers: adminJson,
        body: JSON.stringify({ now: '2030-01-01T00:00:00Z' }),
      });
      expect(refused.status).toBe(403);
      expect(await (await fetch(`${service.url}/admin/v1/clock`, { headers: admin })).json()).toMatchObject({
        overridden: false,
      });
    } finally {
      expect(await service.stop()).toBe(0);
    }
  });
});

async function waitFor(check: () => Promise<boolean | undefined>, withinMs: number): Promise<boolean> {
  const deadline = performance.now() + withinMs;
  for (;;) {
    if (await check()) return true;
    if (performance.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
