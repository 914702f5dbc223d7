import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Declarations } from '../../src/domain/configuration/declarations.js';
import { serverBackend } from '../support/database.js';
import { newSecret, putSubscription, Receiver } from '../support/receiver.js';
import { startTestServer, TEST_ADMIN_TOKEN, type TestServer } from '../support/server.js';

// SPEC §9.1–§9.2: which change emits which event, and every field of it, read from the event log
// and as a real receiver got it (verified with the Standard Webhooks library).
const NOW = '2026-06-15T06:30:00Z'; // 12:00 in Asia/Kolkata
const ORG = 700;
const TILL: [string, string] = ['events.till', 'events-secret'];
const HOOK = '/events';

/** Customers 1–40 have every identifier; 41–60 only a mobile. */
const mobileOf = (n: number) => `9170000${String(n).padStart(5, '0')}`;
function declarations(): Declarations {
  return {
    orgs: [
      {
        id: ORG,
        name: 'Events',
        timezone: 'Asia/Kolkata',
        configs: { ALLOW_MEMBERSHIP_RELINKING: true },
        loyaltyPrograms: [
          {
            id: 70,
            name: 'Main',
            partnerPrograms: [
              { name: 'Goldstar', type: 'EXTERNAL', tiers: ['Silver', 'Gold', 'Platinum'] },
              { name: 'Coalition', type: 'EXTERNAL' },
              { name: 'SUB', type: 'SUPPLEMENTARY', membershipCycle: { unit: 'DAYS', value: 30 } },
              { name: 'PLAIN', type: 'SUPPLEMENTARY', membershipCycle: { unit: 'DAYS', value: 10 } },
              {
                name: 'REMIND',
                type: 'SUPPLEMENTARY',
                membershipCycle: { unit: 'DAYS', value: 10 },
                expiryReminderDays: [3],
              },
              {
                name: 'ENDING',
                type: 'SUPPLEMENTARY',
                membershipCycle: { unit: 'DAYS', value: 30 },
                expiryDate: '2026-07-01T00:00:00+05:30',
                backupProgram: 'BACKUP',
              },
              { name: 'BACKUP', type: 'SUPPLEMENTARY', membershipCycle: { unit: 'MONTHS', value: 3 } },
            ],
          },
        ],
        tills: [{ username: TILL[0], password: TILL[1], accessGroups: ['DEFAULT', 'PARTNER_PROGRAM'] }],
        customers: Array.from({ length: 60 }, (_, i) => {
          const n = i + 1;
          const tag = String(n).padStart(5, '0');
          return n <= 40
            ? { mobile: mobileOf(n), email: `e${tag}@example.com`, externalId: `X${tag}`, loyaltyPrograms: [70] }
            : { mobile: mobileOf(n), loyaltyPrograms: [70] };
        }),
      },
    ],
  };
}

let server: TestServer;
let receiver: Receiver;
const programIds: Record<string, number> = {};
let nextFull = 1;
let nextMobileOnly = 41;
let nextRequest = 1;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

beforeAll(async () => {
  receiver = await Receiver.start();
  server = await startTestServer({
    declarations: declarations(),
    now: NOW,
    defaultAuth: TILL,
    lockTimeoutMs: 500,
    deliveries: true,
  });
  const secret = newSecret();
  const created = await putSubscription(server.url, TEST_ADMIN_TOKEN, ORG, 'everything', {
    url: receiver.url(HOOK, secret),
    events: ['*'],
    secret,
  });
  expect(created.status).toBe(201);
  const programs = await server.request('GET', `/admin/v1/orgs/${ORG}/partnerPrograms`, { admin: true });
  for (const p of programs.body.partnerPrograms) programIds[p.name] = p.id;
});
afterAll(async () => {
  await server?.close();
  await receiver?.close();
});
beforeEach(() => server.clock.set(NOW));
afterEach(() => receiver.assertAllVerified());

interface Customer {
  id: number;
  mobile: string;
  email: string;
  externalId: string;
}

async function customer(full = true): Promise<Customer> {
  const n = full ? nextFull++ : nextMobileOnly++;
  const mobile = mobileOf(n);
  const found = await server.request('GET', `/v2/customers/lookup?identifierName=mobile&identifierValue=${mobile}`);
  expect(found.status).toBe(200);
  const tag = String(n).padStart(5, '0');
  return {
    id: found.body.entity,
    mobile,
    email: full ? `e${tag}@example.com` : '',
    externalId: full ? `X${tag}` : '',
  };
}

const requestId = () => `payload-${nextRequest++}`;

function post(path: string, body: unknown, id: string, headers: Record<string, string> = {}) {
  return server.request('POST', path, { body, headers: { 'x-request-id': id, ...headers } });
}

function link(c: Customer, entries: Array<Record<string, unknown>>, id = requestId(), headers = {}) {
  return post(
    '/v2/partnerProgram/linkCustomer',
    { linkCustomers: [{ customer: { mobile: c.mobile }, linkToPartnerPrograms: entries }] },
    id,
    headers,
  );
}

function update(c: Customer, entries: Array<Record<string, unknown>>, id = requestId()) {
  return post(
    '/v2/partnerProgram/customerPartnerProgramUpdate',
    { customersPartnerUpdates: [{ customer: { mobile: c.mobile }, partnerProgramUpdates: entries }] },
    id,
  );
}

function delink(c: Customer, names: string[], id = requestId()) {
  return post(
    '/v2/partnerProgram/deLinkCustomer',
    {
      deLinkCustomers: [
        { customer: { mobile: c.mobile }, deLinkFromPartnerPrograms: names.map((n) => ({ partnerProgramName: n })) },
      ],
    },
    id,
  );
}

const linkCodes = (body: Json): number[] =>
  body.linkCustomers.flatMap((c: Json) => c.linkToPartnerPrograms.map((p: Json) => p.partnerLinkStatus.code));
const updateCodes = (body: Json): number[] =>
  body.customersPartnerUpdates.flatMap((c: Json) => c.partnerProgramUpdates.map((p: Json) => p.updateStatus.code));
const delinkCodes = (body: Json): number[] =>
  body.deLinkCustomers.flatMap((c: Json) => c.deLinkFromPartnerPrograms.map((p: Json) => p.partnerDeLinkStatus.code));

/** The event log of the org (or of one customer), newest first, every page. */
async function eventLog(query = ''): Promise<Json[]> {
  const events: Json[] = [];
  let cursor: string | null = null;
  for (;;) {
    const page = await server.request(
      'GET',
      `/admin/v1/orgs/${ORG}/events?limit=100${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      { admin: true },
    );
    expect(page.status).toBe(200);
    events.push(...page.body.events);
    cursor = page.body.nextCursor;
    if (cursor === null) return events;
  }
}

/**
 * The customer's events, oldest first, after each has reached the receiver byte-for-byte as the
 * log shows it (the log lists newest first; a transaction's events in reverse creation order).
 */
async function eventsOf(c: Customer): Promise<Json[]> {
  const events = (await eventLog(`&customerId=${c.id}`)).reverse();
  await expectDelivered(events);
  return events;
}

async function expectDelivered(events: Json[]): Promise<void> {
  const ids = events.map((e) => e.eventId as string);
  const requests = await receiver.waitFor(
    (received) => {
      const byId = new Map(received.filter((r) => r.path === HOOK).map((r) => [r.webhookId, r]));
      return ids.every((id) => byId.has(id)) ? ids.map((id) => byId.get(id)!) : undefined;
    },
    5_000,
    `the delivery of ${ids.length} event(s)`,
  );
  requests.forEach((request, i) => {
    expect(request.headers['content-type']).toMatch(/^application\/json/);
    expect(request.body).toEqual(events[i]);
  });
}

const names = (events: Json[]) => events.map((e) => e.eventName);

/** An instant written as ISO-8601 at +05:30 (the org's zone), any precision. */
function zoned(instant: string) {
  return {
    asymmetricMatch: (value: unknown) =>
      typeof value === 'string' &&
      /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?\+05:30$/.test(value) &&
      Date.parse(value) === Date.parse(instant),
    toString: () => `zoned(${instant})`,
    toAsymmetricMatcher: () => `ISO-8601 at +05:30 of ${instant}`,
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What every event of `c` in `program` has (SPEC §9.2), whatever its name. */
function envelope(
  c: Customer,
  program: string,
  expected: { name: string; createdAt: string; source: 'API' | 'JOB'; apiRequestId: string | null },
) {
  return {
    eventId: expect.stringMatching(UUID),
    eventName: expected.name,
    orgId: ORG,
    refId: expect.stringMatching(new RegExp(`^${ORG}_[0-9a-f]{12}$`)),
    apiRequestId: expected.apiRequestId,
    createdAt: new Date(expected.createdAt).toISOString(),
    source: expected.source,
    data: expect.objectContaining({
      customerIdentifiers: {
        customerId: c.id,
        instore: { mobile: c.mobile, email: c.email, externalId: c.externalId },
      },
      entityInformation: { entityType: 'USER', entityId: c.id },
      loyaltyProgramId: 70,
      partnerProgramId: programIds[program],
      partnerProgramName: program,
      partnerProgramType: ['Goldstar', 'Coalition'].includes(program) ? 'EXTERNAL' : 'SUPPLEMENTARY',
    }),
  };
}

function api(name: string, id: string, at = NOW) {
  return { name, createdAt: at, source: 'API' as const, apiRequestId: id };
}
function job(name: string, at: string) {
  return { name, createdAt: at, source: 'JOB' as const, apiRequestId: null };
}

function supplementary(number: string, start: string, end: string, expiryDate: string) {
  return {
    membershipNumber: number,
    membershipStartDate: zoned(start),
    membershipEndDate: zoned(end),
    membershipExpiryDate: expiryDate,
  };
}

describe('partnerProgramLinked', () => {
  it('on EXTERNAL with a tier and its expiry: the stored names, the tier, the expiry in the org zone and in millis', async () => {
    const c = await customer();
    const id = requestId();
    const response = await link(
      c,
      [
        {
          partnerProgramName: 'goldSTAR',
          customerPartnerReference: {
            partnerTierName: 'Gold',
            partnerMembershipId: 'GS-1',
            partnerTierExpiryDate: '2027-01-31',
          },
        },
      ],
      id,
    );
    expect(linkCodes(response.body)).toEqual([200]);
    const [linked, ...rest] = await eventsOf(c);
    expect(rest).toEqual([]);
    expect(linked).toEqual(envelope(c, 'Goldstar', api('partnerProgramLinked', id)));
    expect(linked.data.customerPartnerProgramDetails).toEqual({
      membershipNumber: 'GS-1',
      partnerTierNumber: 2,
      partnerTierName: 'Gold',
      partnerTierExpiryDate: zoned('2027-01-30T18:30:00Z'),
      partnerTierExpiryDateInMillis: Date.parse('2027-01-30T18:30:00Z'),
    });
  });

  it('on EXTERNAL without tiers, and tier-based without a tier given (tier 1): nulls where nothing is stored', async () => {
    const c = await customer(false);
    const id = requestId();
    const response = await link(
      c,
      [
        { partnerProgramName: 'Coalition', customerPartnerReference: { partnerMembershipId: 'CO-1' } },
        { partnerProgramName: 'Goldstar', customerPartnerReference: { partnerMembershipId: 'GS-2' } },
      ],
      id,
    );
    expect(linkCodes(response.body)).toEqual([200, 200]);
    const events = await eventsOf(c);
    expect(events).toEqual([
      envelope(c, 'Coalition', api('partnerProgramLinked', id)),
      envelope(c, 'Goldstar', api('partnerProgramLinked', id)),
    ]);
    expect(events.map((e) => e.data.customerPartnerProgramDetails)).toEqual([
      {
        membershipNumber: 'CO-1',
        partnerTierNumber: null,
        partnerTierName: null,
        partnerTierExpiryDate: null,
        partnerTierExpiryDateInMillis: null,
      },
      {
        membershipNumber: 'GS-2',
        partnerTierNumber: 1,
        partnerTierName: 'Silver',
        partnerTierExpiryDate: null,
        partnerTierExpiryDateInMillis: null,
      },
    ]);
  });

  it('on SUPPLEMENTARY starting now: this event alone, with the period in the org zone', async () => {
    const c = await customer();
    const id = requestId();
    expect(
      linkCodes(
        (await link(c, [{ partnerProgramName: 'sub', customerPartnerReference: { partnerMembershipId: 'S-1' } }], id))
          .body,
      ),
    ).toEqual([200]);
    const events = await eventsOf(c);
    expect(events).toEqual([envelope(c, 'SUB', api('partnerProgramLinked', id))]);
    expect(events[0].data.customerPartnerProgramDetails).toEqual(
      supplementary('S-1', NOW, '2026-07-15T06:30:00Z', '2026-07-15'),
    );
  });

  it('on SUPPLEMENTARY SCHEDULED for later, then supplementaryMembershipStarted (SCHEDULED_START) when it starts', async () => {
    const c = await customer();
    const id = requestId();
    // 02:00 in Kolkata is the evening before in UTC: the expiry date is the org's calendar date.
    const start = '2026-06-19T20:30:00Z';
    const response = await link(
      c,
      [
        {
          partnerProgramName: 'SUB',
          customerPartnerReference: { partnerMembershipId: 'S-2', membershipStartDate: '2026-06-20T02:00:00+05:30' },
        },
      ],
      id,
    );
    expect(linkCodes(response.body)).toEqual([200]);
    const period = supplementary('S-2', start, '2026-07-19T20:30:00Z', '2026-07-20');
    const [linked] = await eventsOf(c);
    expect(linked).toEqual(envelope(c, 'SUB', api('partnerProgramLinked', id)));
    expect(linked.data.customerPartnerProgramDetails).toEqual(period);

    server.clock.set('2026-06-20T00:00:00Z');
    await server.runJobs();
    const events = await eventsOf(c);
    expect(names(events)).toEqual(['partnerProgramLinked', 'supplementaryMembershipStarted']);
    expect(events[1]).toEqual(envelope(c, 'SUB', job('supplementaryMembershipStarted', start)));
    expect(events[1].data).toMatchObject({ reason: 'SCHEDULED_START', customerPartnerProgramDetails: period });
  });

  it('on a link after a delink: a new partnerProgramLinked', async () => {
    const c = await customer();
    await link(c, [{ partnerProgramName: 'Coalition', customerPartnerReference: { partnerMembershipId: 'CO-2' } }]);
    expect(delinkCodes((await delink(c, ['Coalition'])).body)).toEqual([200]);
    server.clock.advance({ minutes: 5 });
    const id = requestId();
    expect(linkCodes((await link(c, [{ partnerProgramName: 'Coalition' }], id)).body)).toEqual([200]);
    const events = await eventsOf(c);
    expect(names(events)).toEqual(['partnerProgramLinked', 'partnerProgramDelinked', 'partnerProgramLinked']);
    expect(events[2]).toEqual(envelope(c, 'Coalition', api('partnerProgramLinked', id, '2026-06-15T06:35:00Z')));
    expect(events[2].data.customerPartnerProgramDetails.membershipNumber).toBe('CO-2');
  });
});

describe('relinks', () => {
  it('partnerProgramRelinkScheduled: rescheduled false, then true, with the relink start in the org zone', async () => {
    const c = await customer();
    await link(c, [{ partnerProgramName: 'SUB', customerPartnerReference: { partnerMembershipId: 'S-3' } }]);
    const [first, second] = [requestId(), requestId()];
    await link(
      c,
      [{ partnerProgramName: 'SUB', customerPartnerReference: { membershipStartDate: '2026-08-01' } }],
      first,
    );
    await link(
      c,
      [{ partnerProgramName: 'SUB', customerPartnerReference: { membershipStartDate: '2026-08-05' } }],
      second,
    );
    const events = await eventsOf(c);
    expect(names(events)).toEqual([
      'partnerProgramLinked',
      'partnerProgramRelinkScheduled',
      'partnerProgramRelinkScheduled',
    ]);
    const current = supplementary('S-3', NOW, '2026-07-15T06:30:00Z', '2026-07-15');
    expect(events[1]).toEqual(envelope(c, 'SUB', api('partnerProgramRelinkScheduled', first)));
    expect(events[1].data).toMatchObject({
      relinkStartDate: zoned('2026-07-31T18:30:00Z'),
      rescheduled: false,
      customerPartnerProgramDetails: current,
    });
    expect(events[2]).toEqual(envelope(c, 'SUB', api('partnerProgramRelinkScheduled', second)));
    expect(events[2].data).toMatchObject({
      relinkStartDate: zoned('2026-08-04T18:30:00Z'),
      rescheduled: true,
      customerPartnerProgramDetails: current,
    });
  });

  it('MEMBERSHIP_RELINKING_CANCELLED emits partnerProgramRelinkCancelled and nothing else', async () => {
    const c = await customer();
    await link(c, [{ partnerProgramName: 'SUB', customerPartnerReference: { partnerMembershipId: 'S-4' } }]);
    await link(c, [{ partnerProgramName: 'SUB', customerPartnerReference: { membershipStartDate: '2026-08-01' } }]);
    const id = requestId();
    const cancelled = await update(
      c,
      [{ partnerProgramName: 'SUB', updateType: 'MEMBERSHIP_RELINKING_CANCELLED' }],
      id,
    );
    expect(updateCodes(cancelled.body)).toEqual([200]);
    const events = await eventsOf(c);
    expect(names(events)).toEqual([
      'partnerProgramLinked',
      'partnerProgramRelinkScheduled',
      'partnerProgramRelinkCancelled',
    ]);
    expect(events[2]).toEqual(envelope(c, 'SUB', api('partnerProgramRelinkCancelled', id)));
    expect(events[2].data).toMatchObject({
      cancelledRelinkStartDate: zoned('2026-07-31T18:30:00Z'),
      customerPartnerProgramDetails: supplementary('S-4', NOW, '2026-07-15T06:30:00Z', '2026-07-15'),
    });
  });

  it('a delink that cancels a relink emits partnerProgramRelinkCancelled before partnerProgramDelinked', async () => {
    const c = await customer(false);
    await link(c, [{ partnerProgramName: 'SUB', customerPartnerReference: { partnerMembershipId: 'S-5' } }]);
    await link(c, [{ partnerProgramName: 'SUB', customerPartnerReference: { membershipStartDate: '2026-08-01' } }]);
    server.clock.advance({ hours: 1 });
    const id = requestId();
    expect(delinkCodes((await delink(c, ['SUB'], id)).body)).toEqual([200]);
    const log = await eventLog(`&customerId=${c.id}`);
    // Newest first; one transaction's events in the reverse of their creation order.
    expect(names(log).slice(0, 2)).toEqual(['partnerProgramDelinked', 'partnerProgramRelinkCancelled']);
    const events = await eventsOf(c);
    const at = '2026-06-15T07:30:00Z';
    expect(events.slice(2)).toEqual([
      envelope(c, 'SUB', api('partnerProgramRelinkCancelled', id, at)),
      envelope(c, 'SUB', api('partnerProgramDelinked', id, at)),
    ]);
    expect(events[2].data.cancelledRelinkStartDate).toEqual(zoned('2026-07-31T18:30:00Z'));
    const view = (await server.request('GET', `/v2/customers/${c.id}/partnerPrograms`)).body.linkedPartnerPrograms[0];
    expect(events[3].data.customerPartnerProgramDetails).toEqual({
      membershipNumber: 'S-5',
      membershipStartDate: zoned(view.partnerProgramMembershipStartDate),
      membershipEndDate: zoned(view.partnerProgramMembershipEndDate),
      membershipExpiryDate: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/),
    });
    expect(events[3].data.customerPartnerProgramDetails.membershipExpiryDate).toBe(
      view.partnerProgramMembershipEndDate.slice(0, 10),
    );
  });

  it('one jump past a period end and its relink start: Expired (PERIOD_END, at the end), then Started (RELINK, at the relink)', async () => {
    const c = await customer();
    await link(c, [{ partnerProgramName: 'PLAIN', customerPartnerReference: { partnerMembershipId: 'P-1' } }]);
    await link(c, [{ partnerProgramName: 'PLAIN', customerPartnerReference: { membershipStartDate: '2026-06-27' } }]);
    server.clock.set('2026-06-28T00:00:00Z');
    await server.runJobs();
    await server.runJobs();
    const events = (await eventsOf(c)).slice(2);
    const [end, relink] = ['2026-06-25T06:30:00Z', '2026-06-26T18:30:00Z'];
    expect(events).toEqual([
      envelope(c, 'PLAIN', job('supplementaryMembershipExpired', end)),
      envelope(c, 'PLAIN', job('supplementaryMembershipStarted', relink)),
    ]);
    expect(events[0].data).toMatchObject({
      reason: 'PERIOD_END',
      customerPartnerProgramDetails: supplementary('P-1', NOW, end, '2026-06-25'),
    });
    expect(events[1].data).toMatchObject({
      reason: 'RELINK',
      customerPartnerProgramDetails: supplementary('P-1', relink, '2026-07-06T18:30:00Z', '2026-07-07'),
    });
  });
});

describe('partnerProgramUpdated', () => {
  it('carries the updateType as applied and the tier after each change', async () => {
    const c = await customer();
    await link(c, [{ partnerProgramName: 'Goldstar', customerPartnerReference: { partnerMembershipId: 'GS-3' } }]);
    const steps: Array<[string, Record<string, string>, number, string, string | null]> = [
      ['UPGRADE', { updatedTierName: 'Platinum' }, 3, 'Platinum', null],
      [
        'DOWNGRADE',
        { updatedTierName: 'Gold', updatedTierExpiryDate: '2027-02-01' },
        2,
        'Gold',
        '2027-01-31T18:30:00Z',
      ],
      ['RENEW', { updatedTierExpiryDate: '2027-06-01T10:00:00+05:30' }, 2, 'Gold', '2027-06-01T04:30:00Z'],
      ['UPDATE', { updatedTierName: 'Silver' }, 1, 'Silver', '2027-06-01T04:30:00Z'],
    ];
    const ids: string[] = [];
    for (const [updateType, updateDetails] of steps) {
      const id = requestId();
      ids.push(id);
      const response = await update(c, [{ partnerProgramName: 'goldstar', updateType, updateDetails }], id);
      expect(updateCodes(response.body)).toEqual([200]);
    }
    const events = (await eventsOf(c)).slice(1);
    expect(events).toEqual(ids.map((id) => envelope(c, 'Goldstar', api('partnerProgramUpdated', id))));
    steps.forEach(([updateType, , tierNumber, tierName, expiry], i) => {
      expect(events[i].data.updateType).toBe(updateType);
      expect(events[i].data.customerPartnerProgramDetails).toEqual({
        membershipNumber: 'GS-3',
        partnerTierNumber: tierNumber,
        partnerTierName: tierName,
        partnerTierExpiryDate: expiry === null ? null : zoned(expiry),
        partnerTierExpiryDateInMillis: expiry === null ? null : Date.parse(expiry),
      });
    });
  });
});

describe('partnerProgramDelinked', () => {
  it('on EXTERNAL: the membership as the delink left it', async () => {
    const c = await customer(false);
    await link(c, [
      {
        partnerProgramName: 'Goldstar',
        customerPartnerReference: { partnerTierName: 'Platinum', partnerMembershipId: 'GS-4' },
      },
    ]);
    const id = requestId();
    expect(delinkCodes((await delink(c, ['GOLDSTAR'], id)).body)).toEqual([200]);
    const events = await eventsOf(c);
    expect(events[1]).toEqual(envelope(c, 'Goldstar', api('partnerProgramDelinked', id)));
    expect(events[1].data.customerPartnerProgramDetails).toMatchObject({
      membershipNumber: 'GS-4',
      partnerTierNumber: 3,
      partnerTierName: 'Platinum',
    });
  });
});

describe('supplementary transitions', () => {
  it('a program expiry: Expired (PROGRAM_EXPIRY) at the expiry, then Started (BACKUP_PROGRAM) in the backup', async () => {
    const c = await customer();
    const linked = await link(c, [
      { partnerProgramName: 'ENDING', customerPartnerReference: { partnerMembershipId: 'E-1' } },
    ]);
    expect(linkCodes(linked.body)).toEqual([200]);
    server.clock.set('2026-07-02T00:00:00Z');
    await server.runJobs();
    const expiry = '2026-06-30T18:30:00Z';
    const events = (await eventsOf(c)).slice(1);
    expect(events).toEqual([
      envelope(c, 'ENDING', job('supplementaryMembershipExpired', expiry)),
      envelope(c, 'BACKUP', job('supplementaryMembershipStarted', expiry)),
    ]);
    expect(events[0].data).toMatchObject({
      reason: 'PROGRAM_EXPIRY',
      customerPartnerProgramDetails: supplementary('E-1', NOW, expiry, '2026-07-01'),
    });
    expect(events[1].data).toMatchObject({
      reason: 'BACKUP_PROGRAM',
      customerPartnerProgramDetails: supplementary('E-1', expiry, '2026-09-30T18:30:00Z', '2026-10-01'),
    });
  });

  it('supplementaryMembershipExpiryReminder: the scheduled expiry in the org zone and daysBefore, when it falls due', async () => {
    const c = await customer();
    await link(c, [{ partnerProgramName: 'REMIND', customerPartnerReference: { partnerMembershipId: 'R-1' } }]);
    server.clock.set('2026-06-22T06:29:59Z');
    await server.runJobs();
    expect(names(await eventsOf(c))).toEqual(['partnerProgramLinked']);
    server.clock.set('2026-06-23T00:00:00Z');
    await server.runJobs();
    await server.runJobs();
    const events = (await eventsOf(c)).slice(1);
    expect(events).toEqual([
      envelope(c, 'REMIND', job('supplementaryMembershipExpiryReminder', '2026-06-22T06:30:00Z')),
    ]);
    expect(events[0].data).toMatchObject({
      scheduledExpiryDate: zoned('2026-06-25T06:30:00Z'),
      daysBefore: 3,
      customerPartnerProgramDetails: supplementary('R-1', NOW, '2026-06-25T06:30:00Z', '2026-06-25'),
    });
  });

  it.each([
    ['a request catches up first, then the scheduler runs', true],
    ['the scheduler runs first, then a request', false],
  ])('emits a transition exactly once: %s', async (_, requestFirst) => {
    const c = await customer();
    await link(c, [{ partnerProgramName: 'PLAIN', customerPartnerReference: { partnerMembershipId: 'P-2' } }]);
    server.clock.set('2026-06-26T00:00:00Z');
    const again = async () => {
      const id = requestId();
      expect(linkCodes((await link(c, [{ partnerProgramName: 'PLAIN' }], id)).body)).toEqual([200]);
      return id;
    };
    let id: string;
    if (requestFirst) {
      id = await again();
      await server.runJobs();
    } else {
      await server.runJobs();
      id = await again();
    }
    await server.runJobs();
    const events = await eventsOf(c);
    expect(events).toEqual([
      envelope(c, 'PLAIN', api('partnerProgramLinked', expect.any(String) as unknown as string)),
      envelope(c, 'PLAIN', job('supplementaryMembershipExpired', '2026-06-25T06:30:00Z')),
      envelope(c, 'PLAIN', api('partnerProgramLinked', id, '2026-06-26T00:00:00Z')),
    ]);
    expect(events[1].data.reason).toBe('PERIOD_END');
  });
});

describe('what emits nothing', () => {
  it('a failed entry emits nothing; its neighbour emits its own event', async () => {
    const c = await customer();
    const response = await link(c, [
      {
        partnerProgramName: 'Goldstar',
        customerPartnerReference: { partnerTierName: 'Bronze', partnerMembershipId: 'x' },
      },
      { partnerProgramName: 'Nowhere' },
      { partnerProgramName: 'Coalition', customerPartnerReference: { partnerMembershipId: 'CO-3' } },
      { partnerProgramName: 'Coalition' },
    ]);
    expect(linkCodes(response.body)).toEqual([2007, 2006, 200, 2005]);
    const updated = await update(c, [
      { partnerProgramName: 'Coalition', updateType: 'UPGRADE', updateDetails: { updatedTierName: 'x' } },
    ]);
    expect(updateCodes(updated.body)).toEqual([2007]);
    expect(delinkCodes((await delink(c, ['Goldstar'])).body)).toEqual([2004]);
    const events = await eventsOf(c);
    expect(names(events)).toEqual(['partnerProgramLinked']);
    expect(events[0].data.partnerProgramName).toBe('Coalition');
  });

  it('an idempotent replay emits nothing', async () => {
    const c = await customer();
    const entries = [{ partnerProgramName: 'Coalition', customerPartnerReference: { partnerMembershipId: 'CO-4' } }];
    const first = await link(c, entries, requestId(), { 'idempotency-key': `replay-${c.id}` });
    const replay = await link(c, entries, requestId(), { 'idempotency-key': `replay-${c.id}` });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body).toEqual(first.body);
    expect(names(await eventsOf(c))).toEqual(['partnerProgramLinked']);
  });

  it('a batch rolled back by a fault of the service (2001) emits nothing', async () => {
    const [a, b] = [await customer(), await customer()];
    const table = 'membership_activities';
    await sql`alter table ${sql.table(table)} rename to ${sql.table(`${table}_away`)}`.execute(server.database.db);
    let response;
    try {
      response = await post(
        '/v2/partnerProgram/linkCustomer',
        {
          linkCustomers: [a, b].map((c) => ({
            customer: { mobile: c.mobile },
            linkToPartnerPrograms: [
              { partnerProgramName: 'Coalition', customerPartnerReference: { partnerMembershipId: 'F' } },
            ],
          })),
        },
        requestId(),
      );
    } finally {
      await sql`alter table ${sql.table(`${table}_away`)} rename to ${sql.table(table)}`.execute(server.database.db);
    }
    expect(response.status).toBe(500);
    expect(linkCodes(response.body)).toEqual([2001, 2001]);
    expect(await eventLog(`&customerId=${a.id}`)).toEqual([]);
    expect(await eventLog(`&customerId=${b.id}`)).toEqual([]);
  });

  // One PGlite connection cannot hold a row lock while the service works: the busy case needs PostgreSQL.
  it.skipIf(!serverBackend)(
    'a batch rolled back because a customer stays locked (2010) emits nothing (PostgreSQL and Citus: a row lock held beside the service)',
    async () => {
      const [free, held] = [await customer(), await customer()];
      let release!: () => void;
      let locked!: () => void;
      const isLocked = new Promise<void>((resolve) => (locked = resolve));
      const holder = server.database.db.transaction().execute(async (trx) => {
        await trx
          .selectFrom('customers')
          .select('id')
          .where('org_id', '=', ORG)
          .where('id', '=', held.id)
          .forUpdate()
          .execute();
        locked();
        await new Promise<void>((resolve) => (release = resolve));
      });
      await isLocked;
      let response;
      try {
        response = await post(
          '/v2/partnerProgram/linkCustomer',
          {
            linkCustomers: [free, held].map((c) => ({
              customer: { mobile: c.mobile },
              linkToPartnerPrograms: [
                { partnerProgramName: 'Coalition', customerPartnerReference: { partnerMembershipId: 'L' } },
              ],
            })),
          },
          requestId(),
        );
      } finally {
        release();
        await holder;
      }
      expect(linkCodes(response.body)).toEqual([2010, 2010]);
      expect(await eventLog(`&customerId=${free.id}`)).toEqual([]);
      expect(await eventLog(`&customerId=${held.id}`)).toEqual([]);
    },
  );
});

describe('the log as a whole', () => {
  it('gives every event its own eventId and refId, and delivered each exactly as logged', async () => {
    const log = await eventLog();
    expect(log.length).toBeGreaterThan(30);
    expect(new Set(log.map((e) => e.eventId)).size).toBe(log.length);
    expect(new Set(log.map((e) => e.refId)).size).toBe(log.length);
    const created = log.map((e) => Date.parse(e.createdAt));
    expect(created).toEqual([...created].sort((x, y) => y - x));
    await expectDelivered(log);
    const requestIds = log.filter((e) => e.source === 'API').map((e) => e.apiRequestId);
    expect(requestIds.every((id) => /^payload-\d+$/.test(id))).toBe(true);
    expect(log.filter((e) => e.source === 'JOB').every((e) => e.apiRequestId === null)).toBe(true);
  });
});
