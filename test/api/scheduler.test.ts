import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { entryCode, link, lookup } from '../support/fixtures.js';
import {
  activitiesOf,
  LIFE_TILL,
  lifecycleDeclarations,
  lifeMobile,
  seedDueRelinks,
  storedMembership,
} from '../support/lifecycle.js';
import { startTestServer, type TestServer } from '../support/server.js';

// The time-driven behaviour of SPEC §8, driven by the test clock and the scheduler's sweeps.
const NOW = '2026-06-15T06:30:00Z'; // 12:00 in Asia/Kolkata
let server: TestServer;
let next = 1;
const fresh = () => lifeMobile(next++);

beforeAll(async () => {
  server = await startTestServer({ declarations: lifecycleDeclarations(), now: NOW, defaultAuth: LIFE_TILL });
});
afterAll(() => server.close());
beforeEach(() => server.clock.set(NOW));

const reference = (extra: Record<string, unknown> = {}) => ({ partnerMembershipId: 'MEM', ...extra });
const iso = (s: string) => new Date(s).toISOString();

describe('scheduled starts, ends and relinks', () => {
  it('activates a scheduled membership at its start instant, not before', async () => {
    const mobile = fresh();
    await link(server, [
      [
        { mobile },
        [{ partnerProgramName: 'SUB', customerPartnerReference: reference({ membershipStartDate: '2026-06-20' }) }],
      ],
    ]);
    server.clock.set('2026-06-19T18:29:59.999Z');
    await server.runJobs();
    expect((await storedMembership(server.database.db, mobile, 'SUB'))?.state).toBe('SCHEDULED');
    server.clock.set('2026-06-19T18:30:00Z');
    const report = await server.runJobs();
    expect(report.transitions).toBe(1);
    expect((await storedMembership(server.database.db, mobile, 'SUB'))?.state).toBe('ACTIVE');
    expect(await activitiesOf(server.database.db, mobile, 'SUB')).toEqual([
      ['ENROLLMENT', iso(NOW), 'API'],
      ['SUPPLEMENTARY_MEMBERSHIP_STARTED', iso('2026-06-19T18:30:00Z'), 'JOB'],
    ]);
  });

  it('runs the whole relink story: period, expiry, gap, relink activation at its instant', async () => {
    const mobile = fresh();
    await link(server, [[{ mobile }, [{ partnerProgramName: 'SUB', customerPartnerReference: reference() }]]]);
    const relink = await link(server, [
      [{ mobile }, [{ partnerProgramName: 'SUB', customerPartnerReference: { membershipStartDate: '2026-07-20' } }]],
    ]);
    expect(entryCode(relink.body)).toBe(200);

    server.clock.set('2026-07-16T00:00:00Z'); // after the first period's end, before the relink
    await server.runJobs();
    expect(await storedMembership(server.database.db, mobile, 'SUB')).toMatchObject({
      state: 'EXPIRED',
      end_at: new Date('2026-07-15T06:30:00Z'),
      pending_relink_start_at: new Date('2026-07-19T18:30:00Z'),
    });
    expect((await lookup(server, mobile)).body.linkedPartnerPrograms[0]).toMatchObject({
      linked: false,
      membershipState: 'EXPIRED',
    });

    server.clock.set('2026-07-19T18:30:00Z');
    await server.runJobs();
    expect(await storedMembership(server.database.db, mobile, 'SUB')).toMatchObject({
      state: 'ACTIVE',
      start_at: new Date('2026-07-19T18:30:00Z'),
      end_at: new Date('2026-08-18T18:30:00Z'),
      pending_relink_start_at: null,
      partner_membership_id: 'MEM',
    });
    const types = (await activitiesOf(server.database.db, mobile, 'SUB')).map(
      ([type, , source]) => `${type}/${source}`,
    );
    expect(types).toEqual([
      'ENROLLMENT/API',
      'SUPPLEMENTARY_MEMBERSHIP_STARTED/API',
      'RELINK_SCHEDULED/API',
      'SUPPLEMENTARY_MEMBERSHIP_EXPIRED/JOB',
      'SUPPLEMENTARY_MEMBERSHIP_STARTED/JOB',
    ]);
    expect((await server.runJobs()).transitions).toBe(0);
  });

  it('expires a membership without a pending relink, after which it can be linked again', async () => {
    const mobile = fresh();
    await link(server, [[{ mobile }, [{ partnerProgramName: 'LATER', customerPartnerReference: reference() }]]]);
    server.clock.set('2026-06-26T00:00:00Z');
    await server.runJobs();
    expect((await storedMembership(server.database.db, mobile, 'LATER'))?.state).toBe('EXPIRED');
    expect(entryCode((await link(server, [[{ mobile }, [{ partnerProgramName: 'LATER' }]]])).body)).toBe(200);
    expect((await storedMembership(server.database.db, mobile, 'LATER'))?.state).toBe('ACTIVE');
  });

  it('keeps month-end periods clamped through relinks', async () => {
    const mobile = fresh();
    await link(server, [
      [
        { mobile },
        [{ partnerProgramName: 'MONTHLY', customerPartnerReference: reference({ membershipStartDate: '2027-01-31' }) }],
      ],
    ]);
    await link(server, [
      [
        { mobile },
        [{ partnerProgramName: 'MONTHLY', customerPartnerReference: { membershipStartDate: '2027-03-31' } }],
      ],
    ]);
    server.clock.set('2027-03-31T00:00:00Z');
    await server.runJobs();
    expect(await storedMembership(server.database.db, mobile, 'MONTHLY')).toMatchObject({
      state: 'ACTIVE',
      start_at: new Date('2027-03-30T18:30:00Z'),
      end_at: new Date('2027-04-29T18:30:00Z'),
    });
    const started = (await activitiesOf(server.database.db, mobile, 'MONTHLY')).filter(
      ([t]) => t !== 'ENROLLMENT' && t !== 'RELINK_SCHEDULED',
    );
    expect(started).toEqual([
      ['SUPPLEMENTARY_MEMBERSHIP_STARTED', iso('2027-01-30T18:30:00Z'), 'JOB'],
      ['SUPPLEMENTARY_MEMBERSHIP_EXPIRED', iso('2027-02-27T18:30:00Z'), 'JOB'],
      ['SUPPLEMENTARY_MEMBERSHIP_STARTED', iso('2027-03-30T18:30:00Z'), 'JOB'],
    ]);
  });
});

describe('program expiry', () => {
  it('ends open memberships at the program expiry and starts them in the backup program', async () => {
    const [mover, alreadyInBackup] = [fresh(), fresh()];
    const response = await link(server, [
      [
        { mobile: mover },
        [{ partnerProgramName: 'ENDING', customerPartnerReference: reference({ partnerMembershipId: 'MOVE-1' }) }],
      ],
      [
        { mobile: alreadyInBackup },
        [
          { partnerProgramName: 'ENDING', customerPartnerReference: reference() },
          { partnerProgramName: 'BACKUP', customerPartnerReference: reference({ partnerMembershipId: 'OWN' }) },
        ],
      ],
    ]);
    expect(response.body.warnings.map((w: { code: number }) => w.code)).toEqual([1302, 1302]);
    server.clock.set('2026-07-02T00:00:00Z');
    const report = await server.runJobs();
    expect(report.programExpiries).toBe(3);
    const expiry = new Date('2026-06-30T18:30:00Z');
    expect(await storedMembership(server.database.db, mover, 'ENDING')).toMatchObject({
      state: 'EXPIRED',
      end_at: expiry,
    });
    expect(await storedMembership(server.database.db, mover, 'BACKUP')).toMatchObject({
      state: 'ACTIVE',
      start_at: expiry,
      end_at: new Date('2026-09-30T18:30:00Z'),
      partner_membership_id: 'MOVE-1',
    });
    expect(await activitiesOf(server.database.db, mover, 'ENDING')).toContainEqual([
      'PARTNER_PROGRAM_EARLY_EXPIRY',
      expiry.toISOString(),
      'JOB',
    ]);
    expect(await activitiesOf(server.database.db, mover, 'BACKUP')).toEqual([
      ['BACKUP_SUPPLEMENTARY_MEMBERSHIP_STARTED', expiry.toISOString(), 'JOB'],
    ]);
    expect(await storedMembership(server.database.db, alreadyInBackup, 'BACKUP')).toMatchObject({
      partner_membership_id: 'OWN',
      start_at: new Date(NOW),
    });
    expect((await server.runJobs()).programExpiries).toBe(0);
    expect(
      entryCode(
        (
          await link(server, [
            [{ mobile: fresh() }, [{ partnerProgramName: 'ENDING', customerPartnerReference: reference() }]],
          ])
        ).body,
      ),
    ).toBe(2020);
  });

  it('cancels pending relinks of a program whose expiry was brought forward', async () => {
    const mobile = fresh();
    await link(server, [[{ mobile }, [{ partnerProgramName: 'LATER', customerPartnerReference: reference() }]]]);
    await link(server, [
      [{ mobile }, [{ partnerProgramName: 'LATER', customerPartnerReference: { membershipStartDate: '2026-08-01' } }]],
    ]);
    const moved = await server.request('PUT', '/admin/v1/orgs/300/partnerPrograms/LATER', {
      admin: true,
      body: {
        type: 'SUPPLEMENTARY',
        loyaltyProgramId: 30,
        membershipCycle: { unit: 'DAYS', value: 10 },
        expiryDate: '2026-06-20T00:00:00+05:30',
      },
    });
    expect(moved.status).toBe(200);
    server.clock.set('2026-06-21T00:00:00Z');
    await server.runJobs();
    expect(await storedMembership(server.database.db, mobile, 'LATER')).toMatchObject({
      state: 'EXPIRED',
      end_at: new Date('2026-06-19T18:30:00Z'),
      pending_relink_start_at: null,
    });
    const types = (await activitiesOf(server.database.db, mobile, 'LATER')).map(([t]) => t);
    expect(types.slice(-2)).toEqual(['RELINK_CANCELLED', 'PARTNER_PROGRAM_EARLY_EXPIRY']);
  });
});

describe('expiry reminders', () => {
  it('records each reminder once, N days before the end, and catches up after a gap', async () => {
    const [steady, late] = [fresh(), fresh()];
    await link(server, [
      [{ mobile: steady }, [{ partnerProgramName: 'SUB', customerPartnerReference: reference() }]],
      [{ mobile: late }, [{ partnerProgramName: 'SUB', customerPartnerReference: reference() }]],
    ]);
    const reminders = async (mobile: string) =>
      (await activitiesOf(server.database.db, mobile, 'SUB')).filter(
        ([t]) => t === 'SUPPLEMENTARY_MEMBERSHIP_EXPIRY_REMINDER',
      );
    server.clock.set('2026-07-08T06:29:59Z');
    await server.runJobs();
    expect(await reminders(steady)).toEqual([]);
    server.clock.set('2026-07-08T06:30:00Z');
    await server.runJobs();
    await server.runJobs();
    expect(await reminders(steady)).toEqual([
      ['SUPPLEMENTARY_MEMBERSHIP_EXPIRY_REMINDER', iso('2026-07-08T06:30:00Z'), 'JOB'],
    ]);
    server.clock.set('2026-07-14T12:00:00Z');
    await server.runJobs();
    expect(await reminders(steady)).toHaveLength(2);
    expect(await reminders(late)).toEqual([
      ['SUPPLEMENTARY_MEMBERSHIP_EXPIRY_REMINDER', iso('2026-07-08T06:30:00Z'), 'JOB'],
      ['SUPPLEMENTARY_MEMBERSHIP_EXPIRY_REMINDER', iso('2026-07-14T06:30:00Z'), 'JOB'],
    ]);
  });
});

describe('bulk and concurrency', () => {
  it('handles a due set larger than a batch, each item exactly once, even with two schedulers of three lanes at once', async () => {
    const count = 2500;
    await seedDueRelinks(server.database.db, count, 'MONTHLY', '2026-06-01T00:00:00Z', '2026-06-10T00:00:00Z');
    const reports = await Promise.all([server.runJobs(200, 3), server.runJobs(200, 3)]);
    expect(reports.reduce((sum, r) => sum + r.transitions, 0)).toBe(count);
    const started = await server.database.db
      .selectFrom('membership_activities as a')
      .innerJoin('memberships as m', (j) => j.onRef('m.org_id', '=', 'a.org_id').onRef('m.id', '=', 'a.membership_id'))
      .innerJoin('customers as c', (j) => j.onRef('c.org_id', '=', 'm.org_id').onRef('c.id', '=', 'm.customer_id'))
      .select(['a.membership_id'])
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('c.mobile', 'like', '9140%')
      .where('a.activity_type', '=', 'SUPPLEMENTARY_MEMBERSHIP_STARTED')
      .groupBy('a.membership_id')
      .execute();
    expect(started).toHaveLength(count);
    expect(started.every((row) => Number(row.n) === 1)).toBe(true);
    const states = await server.database.db
      .selectFrom('memberships as m')
      .innerJoin('customers as c', (j) => j.onRef('c.org_id', '=', 'm.org_id').onRef('c.id', '=', 'm.customer_id'))
      .select(['m.state'])
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('c.mobile', 'like', '9140%')
      .groupBy('m.state')
      .execute();
    expect(states.map((s) => [s.state, Number(s.n)])).toEqual([['ACTIVE', count]]);
  });
});
