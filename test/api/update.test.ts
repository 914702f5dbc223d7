import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brandDeclarations, entryCode, HISTORY_ONLY_TILL, link, mobileOf, NOW, TILL } from '../support/fixtures.js';
import { activityRows, membershipOf } from '../support/memberships.js';
import { startTestServer, type TestServer } from '../support/server.js';

// Every check of SPEC §5, in its order, and the batch rules of §3a, through real HTTP.
// Each test uses customers of its own (mobileOf(1) also exists in org 200, so numbering starts at 2).
let server: TestServer;
let next = 2;
const fresh = () => mobileOf(next++);
const UPDATE = '/v2/partnerProgram/customerPartnerProgramUpdate';

beforeAll(async () => {
  server = await startTestServer({ declarations: brandDeclarations(), now: NOW, defaultAuth: TILL });
});
afterAll(() => server.close());

type Item = [Record<string, unknown>, unknown[]];

function update(items: Item[]) {
  return server.request('POST', UPDATE, {
    body: {
      customersPartnerUpdates: items.map(([customer, updates]) => ({ customer, partnerProgramUpdates: updates })),
    },
  });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function statusOf(body: any, c = 0, p = 0): { status: boolean; code: number; message: string } {
  return body.customersPartnerUpdates[c].partnerProgramUpdates[p].updateStatus;
}

/** A fresh customer linked to `program` (with `reference` added to the link). */
async function linkedTo(program: string, reference: Record<string, unknown> = {}) {
  const mobile = fresh();
  const response = await link(server, [
    [
      { mobile },
      [{ partnerProgramName: program, customerPartnerReference: { partnerMembershipId: 'M', ...reference } }],
    ],
  ]);
  expect(entryCode(response.body)).toBe(200);
  return mobile;
}

async function activityCount() {
  const row = await server.database.db
    .selectFrom('membership_activities')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

describe('success', () => {
  it('upgrades a tier with a new expiry and records the change', async () => {
    const mobile = await linkedTo('Goldstar', {
      partnerTierName: 'Silver',
      partnerTierExpiryDate: '2026-12-31T23:59:59+05:30',
    });
    const response = await update([
      [
        { mobile },
        [
          {
            partnerProgramName: 'Goldstar',
            updateType: 'UPGRADE',
            updateDetails: { updatedTierName: 'Gold', updatedTierExpiryDate: '2027-03-31T23:59:59+05:30' },
          },
        ],
      ],
    ]);
    expect(response.status).toBe(200);
    const item = response.body.customersPartnerUpdates[0];
    expect(item.customer).toMatchObject({
      mobile,
      email: `c${mobile.slice(-5)}@example.com`,
      externalId: `EXT${mobile.slice(-5)}`,
      status: { status: true, code: 1000 },
    });
    expect(item.customer.id).toEqual(expect.any(Number));
    expect(item.partnerProgramUpdates).toEqual([
      {
        partnerProgramName: 'Goldstar',
        updateType: 'UPGRADE',
        updateStatus: { status: true, code: 200, message: 'Success' },
      },
    ]);
    expect(response.body.warnings).toEqual([]);
    expect(await membershipOf(server, mobile, 'Goldstar')).toMatchObject({
      linked: true,
      membershipState: 'LINKED',
      partnerMembershipId: 'M',
      partnerTierNumber: 2,
      partnerTierName: 'Gold',
      partnerTierExpiryDate: '2027-03-31T23:59:59+05:30',
    });
    const activities = await activityRows(server.database.db, mobile, 'Goldstar');
    expect(activities.map((a) => [a.activity_type, a.source])).toEqual([
      ['ENROLLMENT', 'API'],
      ['UPGRADE', 'API'],
    ]);
    expect(activities[1]!.details).toMatchObject({
      previousTierNumber: 1,
      tierNumber: 2,
      tierExpiryDate: '2027-03-31T18:29:59Z',
    });
  });

  it('keeps the tier expiry when an upgrade names none', async () => {
    const mobile = await linkedTo('Goldstar', { partnerTierExpiryDate: '2026-12-31' });
    const response = await update([
      [
        { mobile },
        [{ partnerProgramName: 'Goldstar', updateType: 'UPGRADE', updateDetails: { updatedTierName: 'Platinum' } }],
      ],
    ]);
    expect(statusOf(response.body).code).toBe(200);
    expect(await membershipOf(server, mobile, 'Goldstar')).toMatchObject({
      partnerTierNumber: 3,
      partnerTierExpiryDate: '2026-12-31T00:00:00+05:30',
    });
  });

  it('downgrades to a lower tier', async () => {
    const mobile = await linkedTo('Goldstar', { partnerTierName: 'Platinum' });
    const response = await update([
      [
        { mobile },
        [{ partnerProgramName: 'Goldstar', updateType: 'DOWNGRADE', updateDetails: { updatedTierName: 'Silver' } }],
      ],
    ]);
    expect(statusOf(response.body).code).toBe(200);
    expect(await membershipOf(server, mobile, 'Goldstar')).toMatchObject({
      partnerTierNumber: 1,
      partnerTierName: 'Silver',
    });
    expect((await activityRows(server.database.db, mobile, 'Goldstar')).map((a) => a.activity_type)).toEqual([
      'ENROLLMENT',
      'DOWNGRADE',
    ]);
  });

  it('renews: a new expiry (a date alone is the start of that day in the org timezone), the tier kept', async () => {
    const mobile = await linkedTo('Goldstar', { partnerTierName: 'Gold', partnerTierExpiryDate: '2026-07-01' });
    const response = await update([
      [
        { mobile },
        [
          {
            partnerProgramName: 'Goldstar',
            updateType: 'RENEW',
            updateDetails: { updatedTierExpiryDate: '2027-06-30' },
          },
        ],
      ],
      [
        { mobile },
        [
          {
            partnerProgramName: 'Goldstar',
            updateType: 'RENEW',
            updateDetails: { updatedTierName: 'gOLD', updatedTierExpiryDate: '2027-07-31T10:00:00' },
          },
        ],
      ],
    ]);
    expect(response.status).toBe(200);
    expect(await membershipOf(server, mobile, 'Goldstar')).toMatchObject({
      partnerTierNumber: 2,
      partnerTierName: 'Gold',
      partnerTierExpiryDate: '2027-07-31T10:00:00+05:30',
    });
    expect((await activityRows(server.database.db, mobile, 'Goldstar')).map((a) => a.activity_type)).toEqual([
      'ENROLLMENT',
      'RENEW',
      'RENEW',
    ]);
  });

  it('updates the tier in either direction, the expiry, or both', async () => {
    const mobile = await linkedTo('Goldstar', { partnerTierName: 'Gold', partnerTierExpiryDate: '2026-12-31' });
    const entry = (updateDetails: Record<string, unknown>) => ({
      partnerProgramName: 'Goldstar',
      updateType: 'UPDATE',
      updateDetails,
    });
    const down = await update([[{ mobile }, [entry({ updatedTierName: 'Silver' })]]]);
    expect(statusOf(down.body).code).toBe(200);
    expect(await membershipOf(server, mobile, 'Goldstar')).toMatchObject({
      partnerTierNumber: 1,
      partnerTierExpiryDate: '2026-12-31T00:00:00+05:30',
    });
    const same = await update([
      [{ mobile }, [entry({ updatedTierName: 'Silver', updatedTierExpiryDate: '2028-01-01T00:00:00Z' })]],
    ]);
    expect(statusOf(same.body).code).toBe(200);
    expect(await membershipOf(server, mobile, 'Goldstar')).toMatchObject({
      partnerTierNumber: 1,
      partnerTierExpiryDate: '2028-01-01T05:30:00+05:30',
    });
    const expiryOnly = await update([[{ mobile }, [entry({ updatedTierExpiryDate: '2029-01-01' })]]]);
    expect(statusOf(expiryOnly.body).code).toBe(200);
    expect(await membershipOf(server, mobile, 'Goldstar')).toMatchObject({
      partnerTierNumber: 1,
      partnerTierExpiryDate: '2029-01-01T00:00:00+05:30',
    });
    expect((await activityRows(server.database.db, mobile, 'Goldstar')).map((a) => a.activity_type)).toEqual([
      'ENROLLMENT',
      'UPDATE',
      'UPDATE',
      'UPDATE',
    ]);
  });

  it('matches program, tier and update type case-insensitively and echoes them as sent', async () => {
    const mobile = await linkedTo('Goldstar');
    const response = await update([
      [
        { mobile },
        [{ partnerProgramName: 'gOLDSTAR', updateType: 'upgrade', updateDetails: { updatedTierName: 'PLATINUM' } }],
      ],
    ]);
    expect(response.body.customersPartnerUpdates[0].partnerProgramUpdates[0]).toEqual({
      partnerProgramName: 'gOLDSTAR',
      updateType: 'upgrade',
      updateStatus: { status: true, code: 200, message: 'Success' },
    });
    expect((await membershipOf(server, mobile, 'Goldstar')).partnerTierName).toBe('Platinum');
  });

  it('judges "today" in the org timezone', async () => {
    // 2026-06-14T20:00Z is already 2026-06-15 01:30 in Asia/Kolkata: today, not yesterday.
    const mobile = await linkedTo('Goldstar');
    const response = await update([
      [
        { mobile },
        [
          {
            partnerProgramName: 'Goldstar',
            updateType: 'RENEW',
            updateDetails: { updatedTierExpiryDate: '2026-06-14T20:00:00Z' },
          },
        ],
      ],
    ]);
    expect(statusOf(response.body).code).toBe(200);
    expect((await membershipOf(server, mobile, 'Goldstar')).partnerTierExpiryDate).toBe('2026-06-15T01:30:00+05:30');
  });
});

describe('the checks, in order', () => {
  const upgrade = (tier: string, expiry?: string) => ({
    updatedTierName: tier,
    ...(expiry ? { updatedTierExpiryDate: expiry } : {}),
  });
  // [what, entry, code, message]: each sent for a fresh customer linked to Goldstar at Gold.
  const linkedCases: Array<[string, Record<string, unknown>, number, string]> = [
    ['no name', { updateType: 'UPGRADE' }, 2002, 'Required field is empty or null: partnerProgramName'],
    [
      'a name that is not a string',
      { partnerProgramName: 42, updateType: 'UPGRADE' },
      2002,
      'Required field is empty or null: partnerProgramName',
    ],
    ['an unknown program before a missing type', { partnerProgramName: 'Nope' }, 2006, 'Partner program not found'],
    [
      'no updateType',
      { partnerProgramName: 'Goldstar', updateDetails: upgrade('Platinum') },
      2002,
      'Required field is empty or null: updateType',
    ],
    [
      'an empty updateType',
      { partnerProgramName: 'Goldstar', updateType: '' },
      2002,
      'Required field is empty or null: updateType',
    ],
    [
      'an updateType that is not a string',
      { partnerProgramName: 'Goldstar', updateType: 7 },
      2002,
      'Required field is empty or null: updateType',
    ],
    [
      'an unknown updateType',
      { partnerProgramName: 'Goldstar', updateType: 'PROMOTE' },
      2009,
      'Invalid updateType: supports only UPGRADE, DOWNGRADE, RENEW, UPDATE, MEMBERSHIP_RELINKING_CANCELLED',
    ],
    [
      'an unknown updateType on an unlinked program',
      { partnerProgramName: 'Coalition', updateType: 'PROMOTE' },
      2009,
      expect.any(String),
    ],
    [
      'an upgrade of an unlinked program',
      { partnerProgramName: 'Coalition', updateType: 'UPGRADE', updateDetails: upgrade('x') },
      2004,
      'Customer not linked with the partner program',
    ],
    [
      'an inactive program is only not linked',
      { partnerProgramName: 'Dormant', updateType: 'RENEW' },
      2004,
      'Customer not linked with the partner program',
    ],
    [
      'updateDetails not an object',
      { partnerProgramName: 'Goldstar', updateType: 'UPGRADE', updateDetails: 'Gold' },
      2002,
      'Required field is empty or null: updateDetails must be an object of strings',
    ],
    [
      'a tier name that is not a string',
      { partnerProgramName: 'Goldstar', updateType: 'UPGRADE', updateDetails: { updatedTierName: 3 } },
      2002,
      expect.stringContaining('updateDetails'),
    ],
    [
      'an expiry that is not a string',
      { partnerProgramName: 'Goldstar', updateType: 'RENEW', updateDetails: { updatedTierExpiryDate: 20270101 } },
      2002,
      expect.stringContaining('updateDetails'),
    ],
    [
      'an upgrade without details',
      { partnerProgramName: 'Goldstar', updateType: 'UPGRADE' },
      2002,
      'Required field is empty or null: updatedTierName',
    ],
    [
      'an upgrade with an empty tier name',
      {
        partnerProgramName: 'Goldstar',
        updateType: 'UPGRADE',
        updateDetails: { updatedTierName: '', updatedTierExpiryDate: 'bad' },
      },
      2002,
      'Required field is empty or null: updatedTierName',
    ],
    [
      'an upgrade to an unknown tier, before its date',
      { partnerProgramName: 'Goldstar', updateType: 'UPGRADE', updateDetails: upgrade('Diamond', 'bad') },
      2007,
      'Partner program tier not found',
    ],
    [
      'an upgrade to the same tier',
      { partnerProgramName: 'Goldstar', updateType: 'UPGRADE', updateDetails: upgrade('gold') },
      2023,
      'Tier change does not match updateType',
    ],
    [
      'an upgrade downwards, before its date',
      { partnerProgramName: 'Goldstar', updateType: 'UPGRADE', updateDetails: upgrade('Silver', 'bad') },
      2023,
      'Tier change does not match updateType',
    ],
    [
      'a downgrade upwards',
      { partnerProgramName: 'Goldstar', updateType: 'DOWNGRADE', updateDetails: upgrade('Platinum') },
      2023,
      'Tier change does not match updateType',
    ],
    [
      'a downgrade to the same tier',
      { partnerProgramName: 'Goldstar', updateType: 'DOWNGRADE', updateDetails: upgrade('Gold') },
      2023,
      expect.any(String),
    ],
    [
      'a downgrade without a tier',
      {
        partnerProgramName: 'Goldstar',
        updateType: 'DOWNGRADE',
        updateDetails: { updatedTierExpiryDate: '2027-01-01' },
      },
      2002,
      'Required field is empty or null: updatedTierName',
    ],
    [
      'an upgrade with a bad date',
      { partnerProgramName: 'Goldstar', updateType: 'UPGRADE', updateDetails: upgrade('Platinum', '31/12/2027') },
      2024,
      'Invalid date format',
    ],
    [
      'an upgrade with an impossible date',
      { partnerProgramName: 'Goldstar', updateType: 'UPGRADE', updateDetails: upgrade('Platinum', '2027-02-30') },
      2024,
      'Invalid date format',
    ],
    [
      'an upgrade with a past expiry',
      {
        partnerProgramName: 'Goldstar',
        updateType: 'UPGRADE',
        updateDetails: upgrade('Platinum', '2026-06-14T23:59:59+05:30'),
      },
      2003,
      'Partner tier expiry date must be today or a future date',
    ],
    [
      'a downgrade with a past expiry',
      { partnerProgramName: 'Goldstar', updateType: 'DOWNGRADE', updateDetails: upgrade('Silver', '2026-06-14') },
      2003,
      expect.any(String),
    ],
    [
      'a renewal without an expiry',
      { partnerProgramName: 'Goldstar', updateType: 'RENEW', updateDetails: { updatedTierName: 'Gold' } },
      2002,
      'Required field is empty or null: updatedTierExpiryDate',
    ],
    [
      'a renewal without details',
      { partnerProgramName: 'Goldstar', updateType: 'RENEW' },
      2002,
      'Required field is empty or null: updatedTierExpiryDate',
    ],
    [
      'a renewal with a bad date, before its tier',
      { partnerProgramName: 'Goldstar', updateType: 'RENEW', updateDetails: upgrade('Platinum', 'tomorrow') },
      2024,
      'Invalid date format',
    ],
    [
      'a renewal with a past date',
      { partnerProgramName: 'Goldstar', updateType: 'RENEW', updateDetails: { updatedTierExpiryDate: '2026-06-14' } },
      2003,
      expect.any(String),
    ],
    [
      'a renewal to another tier',
      { partnerProgramName: 'Goldstar', updateType: 'RENEW', updateDetails: upgrade('Platinum', '2027-01-01') },
      2023,
      'Tier change does not match updateType',
    ],
    [
      'a renewal to an unknown tier',
      { partnerProgramName: 'Goldstar', updateType: 'RENEW', updateDetails: upgrade('Diamond', '2027-01-01') },
      2007,
      expect.any(String),
    ],
    [
      'an update without details',
      { partnerProgramName: 'Goldstar', updateType: 'UPDATE' },
      2002,
      'Required field is empty or null: updateDetails',
    ],
    [
      'an update with empty details',
      {
        partnerProgramName: 'Goldstar',
        updateType: 'UPDATE',
        updateDetails: { updatedTierName: '', updatedTierExpiryDate: null },
      },
      2002,
      'Required field is empty or null: updateDetails',
    ],
    [
      'an update to an unknown tier',
      { partnerProgramName: 'Goldstar', updateType: 'UPDATE', updateDetails: upgrade('Diamond', 'bad') },
      2007,
      expect.any(String),
    ],
    [
      'an update with a bad date',
      { partnerProgramName: 'Goldstar', updateType: 'UPDATE', updateDetails: { updatedTierExpiryDate: '2027-13-01' } },
      2024,
      expect.any(String),
    ],
    [
      'an update with a past date',
      { partnerProgramName: 'Goldstar', updateType: 'UPDATE', updateDetails: upgrade('Silver', '2020-01-01') },
      2003,
      expect.any(String),
    ],
  ];

  it.each(linkedCases)('%s → %i, nothing changed', async (_what, entry, code, message) => {
    const mobile = await linkedTo('Goldstar', { partnerTierName: 'Gold', partnerTierExpiryDate: '2026-12-31' });
    const response = await update([[{ mobile }, [entry]]]);
    expect(statusOf(response.body)).toEqual({ status: false, code, message });
    expect(response.status).toBe(400);
    expect(await membershipOf(server, mobile, 'Goldstar')).toMatchObject({
      partnerTierNumber: 2,
      partnerTierExpiryDate: '2026-12-31T00:00:00+05:30',
    });
    expect((await activityRows(server.database.db, mobile, 'Goldstar')).map((a) => a.activity_type)).toEqual([
      'ENROLLMENT',
    ]);
  });

  it('echoes updateType as sent, "" when it is not a string', async () => {
    const response = await update([
      [
        { mobile: fresh() },
        [
          { partnerProgramName: 'Goldstar', updateType: 7 },
          { partnerProgramName: 'Goldstar', updateType: 'Promote' },
        ],
      ],
    ]);
    expect(
      response.body.customersPartnerUpdates[0].partnerProgramUpdates.map((p: { updateType: string }) => p.updateType),
    ).toEqual(['', 'Promote']);
  });

  it('has no tiers to change on non-tier-based and SUPPLEMENTARY programs (2007), once linked', async () => {
    const mobile = await linkedTo('Coalition');
    await link(server, [
      [{ mobile }, [{ partnerProgramName: 'SPP_1', customerPartnerReference: { partnerMembershipId: 'S' } }]],
    ]);
    const entries = ['Coalition', 'SPP_1'].flatMap((partnerProgramName) => [
      { partnerProgramName, updateType: 'UPGRADE', updateDetails: { updatedTierName: 'Gold' } },
      { partnerProgramName, updateType: 'DOWNGRADE' },
      { partnerProgramName, updateType: 'RENEW', updateDetails: { updatedTierExpiryDate: '2027-01-01' } },
      { partnerProgramName, updateType: 'UPDATE', updateDetails: { updatedTierExpiryDate: '2027-01-01' } },
    ]);
    const response = await update([[{ mobile }, entries]]);
    expect(entries.map((_, p) => statusOf(response.body, 0, p).code)).toEqual(Array(8).fill(2007));
  });

  it('checks a tier update against a SCHEDULED membership as linked', async () => {
    const mobile = await linkedTo('SPP_2', { membershipStartDate: '2026-09-01' });
    const response = await update([
      [
        { mobile },
        [{ partnerProgramName: 'SPP_2', updateType: 'RENEW', updateDetails: { updatedTierExpiryDate: '2027-01-01' } }],
      ],
    ]);
    expect(statusOf(response.body).code).toBe(2007);
  });

  it('refuses updates of a delinked membership (2004)', async () => {
    const mobile = await linkedTo('Goldstar');
    const delinked = await server.request('POST', '/v2/partnerProgram/deLinkCustomer', {
      body: {
        deLinkCustomers: [{ customer: { mobile }, deLinkFromPartnerPrograms: [{ partnerProgramName: 'Goldstar' }] }],
      },
    });
    expect(delinked.status).toBe(200);
    const response = await update([
      [
        { mobile },
        [{ partnerProgramName: 'Goldstar', updateType: 'UPGRADE', updateDetails: { updatedTierName: 'Gold' } }],
      ],
    ]);
    expect(statusOf(response.body).code).toBe(2004);
  });
});

describe('MEMBERSHIP_RELINKING_CANCELLED', () => {
  const cancel = (partnerProgramName = 'SPP_2') => ({
    partnerProgramName,
    updateType: 'MEMBERSHIP_RELINKING_CANCELLED',
  });
  const relink = (mobile: string, start: string) =>
    link(server, [
      [{ mobile }, [{ partnerProgramName: 'SPP_2', customerPartnerReference: { membershipStartDate: start } }]],
    ]);

  it('cancels a pending relink, once', async () => {
    const mobile = await linkedTo('SPP_2');
    expect(entryCode((await relink(mobile, '2026-08-01')).body)).toBe(200);
    expect((await membershipOf(server, mobile, 'SPP_2')).pendingRelinkStartDate).toBe('2026-08-01T00:00:00+05:30');

    const response = await update([[{ mobile }, [cancel()]]]);
    expect(response.status).toBe(200);
    expect(response.body.customersPartnerUpdates[0].partnerProgramUpdates).toEqual([
      {
        partnerProgramName: 'SPP_2',
        updateType: 'MEMBERSHIP_RELINKING_CANCELLED',
        updateStatus: { status: true, code: 200, message: 'Success' },
      },
    ]);
    expect(await membershipOf(server, mobile, 'SPP_2')).toMatchObject({
      membershipState: 'ACTIVE',
      linked: true,
      pendingRelinkStartDate: null,
      partnerProgramMembershipEndDate: '2026-07-15T12:00:00+05:30',
    });
    const activities = await activityRows(server.database.db, mobile, 'SPP_2');
    expect(activities.map((a) => [a.activity_type, a.source])).toEqual([
      ['ENROLLMENT', 'API'],
      ['SUPPLEMENTARY_MEMBERSHIP_STARTED', 'API'],
      ['RELINK_SCHEDULED', 'API'],
      ['RELINK_CANCELLED', 'API'],
    ]);
    expect(activities[3]!.details).toEqual({ relinkStart: '2026-07-31T18:30:00Z' });

    const again = await update([[{ mobile }, [cancel()]]]);
    expect(statusOf(again.body)).toEqual({ status: false, code: 2022, message: 'No pending relinking to cancel' });
  });

  it('answers 2022 with nothing pending, always on EXTERNAL programs, and 2004 when not linked', async () => {
    const mobile = await linkedTo('SPP_2');
    await link(server, [
      [{ mobile }, [{ partnerProgramName: 'Goldstar', customerPartnerReference: { partnerMembershipId: 'G' } }]],
    ]);
    const response = await update([
      [{ mobile }, [cancel('SPP_2'), cancel('Goldstar'), cancel('Coalition'), cancel('SPP_1')]],
    ]);
    expect([0, 1, 2, 3].map((p) => statusOf(response.body, 0, p).code)).toEqual([2022, 2022, 2004, 2004]);
  });

  it('cancels the relink of an expired membership, which then stays expired', async () => {
    const mobile = await linkedTo('SPP_2');
    expect(entryCode((await relink(mobile, '2026-08-01')).body)).toBe(200);
    server.clock.advance({ hours: 24 * 31 });
    try {
      expect(await membershipOf(server, mobile, 'SPP_2')).toMatchObject({
        membershipState: 'EXPIRED',
        linked: false,
        pendingRelinkStartDate: '2026-08-01T00:00:00+05:30',
      });
      // Only the cancellation counts an expired membership with a pending relink as linked.
      const renew = await update([
        [
          { mobile },
          [
            {
              partnerProgramName: 'SPP_2',
              updateType: 'RENEW',
              updateDetails: { updatedTierExpiryDate: '2027-01-01' },
            },
          ],
        ],
      ]);
      expect(statusOf(renew.body).code).toBe(2004);
      const response = await update([[{ mobile }, [cancel()]]]);
      expect(statusOf(response.body).code).toBe(200);
      expect(await membershipOf(server, mobile, 'SPP_2')).toMatchObject({
        membershipState: 'EXPIRED',
        linked: false,
        pendingRelinkStartDate: null,
      });
      expect(statusOf((await update([[{ mobile }, [cancel()]]])).body).code).toBe(2004);
      server.clock.set('2026-08-02T00:00:00Z');
      expect((await membershipOf(server, mobile, 'SPP_2')).membershipState).toBe('EXPIRED');
      expect((await activityRows(server.database.db, mobile, 'SPP_2')).map((a) => [a.activity_type, a.source])).toEqual(
        [
          ['ENROLLMENT', 'API'],
          ['SUPPLEMENTARY_MEMBERSHIP_STARTED', 'API'],
          ['RELINK_SCHEDULED', 'API'],
          ['SUPPLEMENTARY_MEMBERSHIP_EXPIRED', 'JOB'],
          ['RELINK_CANCELLED', 'API'],
        ],
      );
    } finally {
      server.clock.set(NOW);
    }
  });
});

describe('batches', () => {
  let linked: string;
  beforeAll(async () => {
    linked = await linkedTo('Goldstar');
  });
  const upgradeTo = (updatedTierName: string) => ({
    partnerProgramName: 'Goldstar',
    updateType: 'UPGRADE',
    updateDetails: { updatedTierName },
  });

  const cases: Array<[string, () => Promise<{ status: number; body: unknown }>, number, number]> = [
    [
      'no credentials',
      () =>
        server.request('POST', UPDATE, {
          body: {
            customersPartnerUpdates: [{ customer: { mobile: linked }, partnerProgramUpdates: [upgradeTo('Gold')] }],
          },
          auth: null,
        }),
      401,
      401,
    ],
    [
      'a till without DEFAULT',
      () =>
        server.request('POST', UPDATE, {
          body: {
            customersPartnerUpdates: [{ customer: { mobile: linked }, partnerProgramUpdates: [upgradeTo('Gold')] }],
          },
          auth: HISTORY_ONLY_TILL,
        }),
      403,
      403,
    ],
    [
      'text/plain',
      () => server.request('POST', UPDATE, { rawBody: '{}', headers: { 'content-type': 'text/plain' } }),
      415,
      415,
    ],
    [
      'malformed JSON',
      () =>
        server.request('POST', UPDATE, {
          rawBody: '{"customersPartnerUpdates": [',
          headers: { 'content-type': 'application/json' },
        }),
      400,
      400,
    ],
    ['a JSON array', () => server.request('POST', UPDATE, { body: [1] }), 400, 400],
    ['no customersPartnerUpdates', () => server.request('POST', UPDATE, { body: { linkCustomers: [] } }), 400, 2002],
    [
      'an empty customersPartnerUpdates',
      () => server.request('POST', UPDATE, { body: { customersPartnerUpdates: [] } }),
      400,
      2002,
    ],
    [
      'customersPartnerUpdates: null',
      () => server.request('POST', UPDATE, { body: { customersPartnerUpdates: null } }),
      400,
      2002,
    ],
    [
      'customersPartnerUpdates not an array',
      () => server.request('POST', UPDATE, { body: { customersPartnerUpdates: {} } }),
      400,
      400,
    ],
    [
      '51 customers',
      () => update(Array.from({ length: 51 }, (): Item => [{ mobile: linked }, [upgradeTo('Gold')]])),
      400,
      2008,
    ],
  ];

  it.each(cases)('%s → HTTP %i, code %i, nothing changed', async (_name, send, httpStatus, code) => {
    const before = await activityCount();
    const response = await send();
    expect(response.status).toBe(httpStatus);
    expect(response.body).toEqual({ errors: [{ status: false, code, message: expect.any(String) }], warnings: [] });
    expect(await activityCount()).toBe(before);
    expect((await membershipOf(server, linked, 'Goldstar')).partnerTierNumber).toBe(1);
  });

  it('answers 200 when all succeed, 201 when some fail, 400 when all fail', async () => {
    const [a, b] = [await linkedTo('Goldstar'), await linkedTo('Goldstar')];
    expect(
      (
        await update([
          [{ mobile: a }, [upgradeTo('Gold')]],
          [{ mobile: b }, [upgradeTo('Gold')]],
        ])
      ).status,
    ).toBe(200);
    expect(
      (
        await update([
          [{ mobile: a }, [upgradeTo('Platinum')]],
          [{ mobile: b }, [upgradeTo('Gold')]],
        ])
      ).status,
    ).toBe(201);
    expect(
      (
        await update([
          [{ mobile: a }, [upgradeTo('Platinum')]],
          [{ mobile: '9' }, [upgradeTo('Gold')]],
        ])
      ).status,
    ).toBe(400);
  });

  it('processes duplicates inside one batch as sequential calls', async () => {
    const mobile = await linkedTo('Goldstar');
    const response = await update([
      [{ mobile }, [upgradeTo('Gold'), upgradeTo('Gold')]],
      [
        { mobile },
        [
          upgradeTo('Platinum'),
          { partnerProgramName: 'Goldstar', updateType: 'DOWNGRADE', updateDetails: { updatedTierName: 'Gold' } },
        ],
      ],
    ]);
    expect(response.status).toBe(201);
    expect(
      [
        statusOf(response.body, 0, 0),
        statusOf(response.body, 0, 1),
        statusOf(response.body, 1, 0),
        statusOf(response.body, 1, 1),
      ].map((s) => s.code),
    ).toEqual([200, 2023, 200, 200]);
    expect((await membershipOf(server, mobile, 'Goldstar')).partnerTierName).toBe('Gold');
    expect((await activityRows(server.database.db, mobile, 'Goldstar')).map((a) => a.activity_type)).toEqual([
      'ENROLLMENT',
      'UPGRADE',
      'UPGRADE',
      'DOWNGRADE',
    ]);
  });

  it('lets malformed items and entries fail alone', async () => {
    const mobile = await linkedTo('Goldstar');
    const response = await server.request('POST', UPDATE, {
      body: {
        customersPartnerUpdates: [
          null,
          { customer: 'nope', partnerProgramUpdates: [upgradeTo('Gold')] },
          {
            customer: { mobile },
            partnerProgramUpdates: [
              null,
              7,
              { partnerProgramName: ['x'], updateType: 'UPGRADE' },
              { partnerProgramName: 'Goldstar', updateType: 'UPGRADE', updateDetails: [1] },
              upgradeTo('Gold'),
            ],
          },
          { customer: { mobile } },
          { customer: { mobile }, partnerProgramUpdates: 'Goldstar' },
          { customer: { mobile: '910000000000' }, partnerProgramUpdates: [upgradeTo('Gold')] },
        ],
      },
    });
    expect(response.status).toBe(201);
    const [nullItem, badCustomer, mixed, noList, listNotArray, unknown] = response.body.customersPartnerUpdates;
    expect(nullItem.customer.status.code).toBe(1015);
    expect(badCustomer.partnerProgramUpdates[0]).toEqual({
      partnerProgramName: 'Goldstar',
      updateType: 'UPGRADE',
      updateStatus: { status: false, code: 1015, message: 'No identifier provided' },
    });
    expect(mixed.partnerProgramUpdates.map((p: { updateStatus: { code: number } }) => p.updateStatus.code)).toEqual([
      2002, 2002, 2002, 2002, 200,
    ]);
    expect(noList.partnerProgramUpdates).toEqual([
      {
        partnerProgramName: '',
        updateType: '',
        updateStatus: { status: false, code: 2002, message: 'Required field is empty or null: partnerProgramUpdates' },
      },
    ]);
    expect(listNotArray.partnerProgramUpdates[0].updateStatus.code).toBe(2002);
    expect(unknown.customer).toEqual({
      mobile: '910000000000',
      status: { status: false, code: 1011, message: 'Cannot find customer for provided identifier' },
    });
    expect((await membershipOf(server, mobile, 'Goldstar')).partnerTierName).toBe('Gold');
  });
});
