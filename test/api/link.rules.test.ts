import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brandDeclarations, entryCode, link, mobileOf, NOW, OTHER_ORG_TILL, TILL } from '../support/fixtures.js';
import { membershipOf } from '../support/memberships.js';
import { startTestServer, type TestServer } from '../support/server.js';

// Every check of SPEC §4, in its order, through real HTTP. Each test uses customers of its own.
let server: TestServer;
let next = 1;
const fresh = () => mobileOf(next++);

beforeAll(async () => {
  server = await startTestServer({ declarations: brandDeclarations(), now: NOW, defaultAuth: TILL });
});
afterAll(() => server.close());

describe('success', () => {
  it('links a tier-based EXTERNAL program, echoing the stored customer', async () => {
    const mobile = fresh();
    const response = await link(server, [
      [
        { mobile },
        [
          {
            partnerProgramName: 'Goldstar',
            customerPartnerReference: {
              partnerMembershipId: 'GS-1',
              partnerTierName: 'Gold',
              partnerTierExpiryDate: '2026-12-31T23:59:59+05:30',
            },
          },
        ],
      ],
    ]);
    expect(response.status).toBe(200);
    const item = response.body.linkCustomers[0];
    expect(item.customer).toMatchObject({
      mobile,
      email: `c${mobile.slice(-5)}@example.com`,
      externalId: `EXT${mobile.slice(-5)}`,
      status: { status: true, code: 1000, message: 'Customer successfully retrieved' },
    });
    expect(item.customer.id).toEqual(expect.any(Number));
    expect(item.linkToPartnerPrograms).toEqual([
      { partnerProgramName: 'Goldstar', partnerLinkStatus: { status: true, code: 200, message: 'Success' } },
    ]);
    expect(response.body.warnings).toEqual([]);
    expect(await membershipOf(server, mobile, 'Goldstar')).toMatchObject({
      partnerProgramType: 'EXTERNAL',
      linked: true,
      membershipState: 'LINKED',
      partnerMembershipId: 'GS-1',
      partnerTierNumber: 2,
      partnerTierName: 'Gold',
      partnerTierExpiryDate: '2026-12-31T23:59:59+05:30',
      partnerProgramMembershipStartDate: '2026-06-15T12:00:00+05:30',
      partnerProgramMembershipEndDate: null,
    });
  });

  it('gives a tier-based program tier 1 when no tier is named, and a non-tier program none', async () => {
    const mobile = fresh();
    const response = await link(server, [
      [
        { mobile },
        [
          { partnerProgramName: 'Goldstar', customerPartnerReference: { partnerMembershipId: 'A' } },
          { partnerProgramName: 'Coalition', customerPartnerReference: { partnerMembershipId: 'B' } },
        ],
      ],
    ]);
    expect(response.status).toBe(200);
    expect(await membershipOf(server, mobile, 'Goldstar')).toMatchObject({
      partnerTierNumber: 1,
      partnerTierName: 'Silver',
    });
    expect(await membershipOf(server, mobile, 'Coalition')).toMatchObject({
      partnerTierNumber: null,
      partnerTierName: null,
    });
  });

  it('matches program and tier names case-insensitively and echoes the name as sent', async () => {
    const response = await link(server, [
      [
        { mobile: fresh() },
        [
          {
            partnerProgramName: 'gOLDSTAR',
            customerPartnerReference: { partnerMembershipId: 'x', partnerTierName: 'platinum' },
          },
        ],
      ],
    ]);
    expect(response.body.linkCustomers[0].linkToPartnerPrograms[0]).toMatchObject({
      partnerProgramName: 'gOLDSTAR',
      partnerLinkStatus: { code: 200 },
    });
  });

  it('starts a SUPPLEMENTARY membership now for one cycle', async () => {
    const mobile = fresh();
    const response = await link(server, [
      [{ mobile }, [{ partnerProgramName: 'SPP_1', customerPartnerReference: { partnerMembershipId: 'S1' } }]],
    ]);
    expect(response.status).toBe(200);
    expect(await membershipOf(server, mobile, 'SPP_1')).toMatchObject({
      partnerProgramType: 'SUPPLEMENTARY',
      linked: true,
      membershipState: 'ACTIVE',
      partnerProgramMembershipStartDate: '2026-06-15T12:00:00+05:30',
      partnerProgramMembershipEndDate: '2027-06-15T12:00:00+05:30',
      pendingRelinkStartDate: null,
    });
  });

  it('schedules a SUPPLEMENTARY membership that starts in the future', async () => {
    const mobile = fresh();
    await link(server, [
      [
        { mobile },
        [
          {
            partnerProgramName: 'SPP_2',
            customerPartnerReference: { partnerMembershipId: 'S2', membershipStartDate: '2026-07-01' },
          },
        ],
      ],
    ]);
    expect(await membershipOf(server, mobile, 'SPP_2')).toMatchObject({
      membershipState: 'SCHEDULED',
      linked: true,
      partnerProgramMembershipStartDate: '2026-07-01T00:00:00+05:30',
      partnerProgramMembershipEndDate: '2026-07-31T00:00:00+05:30',
    });
  });

  it('keeps membershipStartDate as the start of an EXTERNAL membership', async () => {
    const mobile = fresh();
    await link(server, [
      [
        { mobile },
        [
          {
            partnerProgramName: 'Coalition',
            customerPartnerReference: { partnerMembershipId: 'C', membershipStartDate: '2026-08-01T10:00:00' },
          },
        ],
      ],
    ]);
    expect(await membershipOf(server, mobile, 'Coalition')).toMatchObject({
      membershipState: 'LINKED',
      partnerProgramMembershipStartDate: '2026-08-01T10:00:00+05:30',
    });
  });

  it('adds calendar months and clamps to the month end', async () => {
    const mobile = '919800000003';
    const response = await link(server, [
      [
        { mobile },
        [
          {
            partnerProgramName: 'SPP_B',
            customerPartnerReference: { partnerMembershipId: 'B', membershipStartDate: '2027-01-31' },
          },
        ],
      ],
    ]);
    expect(entryCode(response.body)).toBe(200);
    expect(await membershipOf(server, mobile, 'SPP_B')).toMatchObject({
      partnerProgramMembershipStartDate: '2027-01-31T00:00:00+05:30',
      partnerProgramMembershipEndDate: '2027-02-28T00:00:00+05:30',
    });
  });
});

describe('step 1: the program', () => {
  it.each([
    [{}, 2002],
    [{ partnerProgramName: '' }, 2002],
    [{ partnerProgramName: 42 }, 2002],
    [{ partnerProgramName: 'Nope' }, 2006],
    [{ partnerProgramName: 'Dormant' }, 2021],
    [{ partnerProgramName: 'Bygone' }, 2020],
  ])('%j → %i', async (entry, code) => {
    const response = await link(server, [
      [{ mobile: fresh() }, [{ ...entry, customerPartnerReference: { partnerMembershipId: 'x' } }]],
    ]);
    expect(entryCode(response.body)).toBe(code);
    expect(response.status).toBe(400);
  });

  it('says which failure it is in the message', async () => {
    const response = await link(server, [
      [
        { mobile: fresh() },
        [{ partnerProgramName: 'Dormant' }, { partnerProgramName: 'Bygone' }, { partnerProgramName: 'Nope' }],
      ],
    ]);
    const statuses = response.body.linkCustomers[0].linkToPartnerPrograms.map(
      (p: { partnerLinkStatus: unknown }) => p.partnerLinkStatus,
    );
    expect(statuses).toEqual([
      { status: false, code: 2021, message: 'Partner program is inactive' },
      { status: false, code: 2020, message: 'Partner program has expired' },
      { status: false, code: 2006, message: 'Partner program not found' },
    ]);
  });

  it('does not see programs of another org', async () => {
    const response = await link(server, [
      [
        { mobile: fresh() },
        [{ partnerProgramName: 'OtherOnly', customerPartnerReference: { partnerMembershipId: 'x' } }],
      ],
    ]);
    expect(entryCode(response.body)).toBe(2006);
  });
});

describe('step 2: loyalty enrolment', () => {
  it('refuses a customer not enrolled in the program’s loyalty program, before date checks', async () => {
    const response = await link(server, [
      [
        { externalId: 'NOT-ENROLLED' },
        [
          {
            partnerProgramName: 'Goldstar',
            customerPartnerReference: { partnerMembershipId: 'x', partnerTierExpiryDate: 'garbage' },
          },
        ],
      ],
    ]);
    expect(response.body.linkCustomers[0].linkToPartnerPrograms[0].partnerLinkStatus).toEqual({
      status: false,
      code: 2005,
      message: 'Customer not enrolled in loyalty program',
    });
  });

  it('checks the loyalty program that owns the partner program', async () => {
    const response = await link(server, [
      [{ mobile: fresh() }, [{ partnerProgramName: 'SPP_B', customerPartnerReference: { partnerMembershipId: 'x' } }]],
    ]);
    expect(entryCode(response.body)).toBe(2005);
  });
});

describe('steps 3 and 4: dates and tiers', () => {
  it.each([
    ['partnerTierExpiryDate', '31/12/2026', 2024],
    ['partnerTierExpiryDate', '2026-02-30', 2024],
    ['membershipStartDate', 'tomorrow', 2024],
    ['membershipStartDate', 1767225600, 2024],
    ['partnerTierExpiryDate', '2026-06-14T23:59:59+05:30', 2003],
    ['membershipStartDate', '2026-06-14', 2025],
    ['partnerTierExpiryDate', '2026-06-15T00:00:00+05:30', 200],
    ['membershipStartDate', '2026-06-15T09:00:00+05:30', 200],
    ['membershipStartDate', '2025-12-23T17:55:00 +05:30', 2025],
    ['partnerTierExpiryDate', '2029-06-30 23:59:59', 200],
    ['partnerTierExpiryDate', '2029-06-30 23:59:59+05:30', 200],
    ['partnerTierExpiryDate', '2029-06-30  23:59:59', 2024],
  ])('%s %j → %i', async (field, value, code) => {
    const response = await link(server, [
      [
        { mobile: fresh() },
        [{ partnerProgramName: 'Goldstar', customerPartnerReference: { partnerMembershipId: 'x', [field]: value } }],
      ],
    ]);
    expect(entryCode(response.body)).toBe(code);
  });

  it('judges "today" in the org timezone', async () => {
    // 2026-06-14T20:00Z is already 2026-06-15 01:30 in Asia/Kolkata: today, not yesterday.
    const response = await link(server, [
      [
        { mobile: fresh() },
        [
          {
            partnerProgramName: 'Coalition',
            customerPartnerReference: { partnerMembershipId: 'x', partnerTierExpiryDate: '2026-06-14T20:00:00Z' },
          },
        ],
      ],
    ]);
    expect(entryCode(response.body)).toBe(200);
  });

  it('reads a date without offset in the org timezone', async () => {
    const mobile = fresh();
    await link(server, [
      [
        { mobile },
        [
          {
            partnerProgramName: 'Goldstar',
            customerPartnerReference: { partnerMembershipId: 'x', partnerTierExpiryDate: '2026-12-31T23:59:59' },
          },
        ],
      ],
    ]);
    expect((await membershipOf(server, mobile, 'Goldstar')).partnerTierExpiryDate).toBe('2026-12-31T23:59:59+05:30');
  });

  it('checks the tier before the dates', async () => {
    const response = await link(server, [
      [
        { mobile: fresh() },
        [
          {
            partnerProgramName: 'Goldstar',
            customerPartnerReference: {
              partnerMembershipId: 'x',
              partnerTierName: 'Diamond',
              partnerTierExpiryDate: '2020-01-01',
            },
          },
        ],
      ],
    ]);
    expect(entryCode(response.body)).toBe(2007);
  });

  it('has no tiers on SUPPLEMENTARY or non-tier programs', async () => {
    const response = await link(server, [
      [
        { mobile: fresh() },
        [
          {
            partnerProgramName: 'SPP_1',
            customerPartnerReference: { partnerMembershipId: 'x', partnerTierName: 'Gold' },
          },
          {
            partnerProgramName: 'Coalition',
            customerPartnerReference: { partnerMembershipId: 'x', partnerTierName: 'Gold' },
          },
        ],
      ],
    ]);
    expect([entryCode(response.body, 0, 0), entryCode(response.body, 0, 1)]).toEqual([2007, 2007]);
  });

  it('refuses a start after the program expiry', async () => {
    const response = await link(server, [
      [
        { mobile: fresh() },
        [
          {
            partnerProgramName: 'SPP_1',
            customerPartnerReference: { partnerMembershipId: 'x', membershipStartDate: '2031-01-01' },
          },
        ],
      ],
    ]);
    expect(entryCode(response.body)).toBe(2020);
  });
});

describe('step 5: already linked, and relinks', () => {
  it('refuses a second EXTERNAL link, even with a start date', async () => {
    const mobile = fresh();
    const entry = { partnerProgramName: 'Goldstar', customerPartnerReference: { partnerMembershipId: 'x' } };
    expect(entryCode((await link(server, [[{ mobile }, [entry]]])).body)).toBe(200);
    const again = await link(server, [
      [{ mobile }, [entry, { ...entry, customerPartnerReference: { membershipStartDate: '2027-01-01' } }]],
    ]);
    expect(
      again.body.linkCustomers[0].linkToPartnerPrograms.map((p: { partnerLinkStatus: unknown }) => p.partnerLinkStatus),
    ).toEqual([
      { status: false, code: 2005, message: 'Partner program already linked with customer' },
      { status: false, code: 2005, message: 'Partner program already linked with customer' },
    ]);
  });

  it('schedules, reschedules and refuses relinks of a SUPPLEMENTARY membership', async () => {
    const mobile = fresh();
    await link(server, [
      [{ mobile }, [{ partnerProgramName: 'SPP_2', customerPartnerReference: { partnerMembershipId: 'R1' } }]],
    ]);
    const end = (await membershipOf(server, mobile, 'SPP_2')).partnerProgramMembershipEndDate;
    expect(end).toBe('2026-07-15T12:00:00+05:30');

    const relink = (start: string) =>
      link(server, [
        [{ mobile }, [{ partnerProgramName: 'SPP_2', customerPartnerReference: { membershipStartDate: start } }]],
      ]);
    expect(entryCode((await relink('2026-07-15T12:00:00+05:30')).body)).toBe(2005); // not strictly after the end
    expect(entryCode((await relink('2026-07-20')).body)).toBe(200);
    expect((await membershipOf(server, mobile, 'SPP_2')).pendingRelinkStartDate).toBe('2026-07-20T00:00:00+05:30');
    expect(entryCode((await relink('2026-08-01')).body)).toBe(200);
    const after = await membershipOf(server, mobile, 'SPP_2');
    expect(after).toMatchObject({
      pendingRelinkStartDate: '2026-08-01T00:00:00+05:30',
      partnerMembershipId: 'R1',
      membershipState: 'ACTIVE',
    });

    const activities = await server.database.db
      .selectFrom('membership_activities')
      .select(['activity_type', 'source'])
      .where(
        'membership_id',
        '=',
        (
          await server.database.db
            .selectFrom('customers')
            .innerJoin('memberships', (j) =>
              j
                .onRef('memberships.org_id', '=', 'customers.org_id')
                .onRef('memberships.customer_id', '=', 'customers.id'),
            )
            .select('memberships.id')
            .where('customers.mobile', '=', mobile)
            .executeTakeFirstOrThrow()
        ).id,
      )
      .orderBy('id')
      .execute();
    expect(activities).toEqual([
      { activity_type: 'ENROLLMENT', source: 'API' },
      { activity_type: 'SUPPLEMENTARY_MEMBERSHIP_STARTED', source: 'API' },
      { activity_type: 'RELINK_SCHEDULED', source: 'API' },
      { activity_type: 'RELINK_RESCHEDULED', source: 'API' },
    ]);
  });

  it('refuses a relink when the org has relinking off (2026) and a relink with no start (2005)', async () => {
    const other = (body: unknown) =>
      server.request('POST', '/v2/partnerProgram/linkCustomer', { body, auth: OTHER_ORG_TILL });
    const customer = { mobile: mobileOf(1) };
    const first = await other({
      linkCustomers: [
        {
          customer,
          linkToPartnerPrograms: [
            { partnerProgramName: 'SPP_1', customerPartnerReference: { partnerMembershipId: 'O' } },
          ],
        },
      ],
    });
    expect(entryCode(first.body)).toBe(200);
    const relink = await other({
      linkCustomers: [
        {
          customer,
          linkToPartnerPrograms: [
            { partnerProgramName: 'SPP_1', customerPartnerReference: { membershipStartDate: '2027-01-01' } },
            { partnerProgramName: 'SPP_1' },
          ],
        },
      ],
    });
    expect([entryCode(relink.body, 0, 0), entryCode(relink.body, 0, 1)]).toEqual([2026, 2005]);
  });

  it('warns 1302 when a relinked period ends after the program expiry', async () => {
    const mobile = fresh();
    await link(server, [
      [{ mobile }, [{ partnerProgramName: 'SPP_1', customerPartnerReference: { partnerMembershipId: 'W' } }]],
    ]);
    const response = await link(server, [
      [{ mobile }, [{ partnerProgramName: 'SPP_1', customerPartnerReference: { membershipStartDate: '2030-06-01' } }]],
    ]);
    expect(entryCode(response.body)).toBe(200);
    expect(response.body.warnings).toEqual([
      {
        status: false,
        code: 1302,
        message: 'Supplementary program expiry is before membership expiry',
        customerIndex: 0,
        partnerProgramName: 'SPP_1',
      },
    ]);
  });
});

describe('step 6: new links', () => {
  it('needs a membership id for a first link', async () => {
    const response = await link(server, [[{ mobile: fresh() }, [{ partnerProgramName: 'Goldstar' }]]]);
    expect(response.body.linkCustomers[0].linkToPartnerPrograms[0].partnerLinkStatus).toEqual({
      status: false,
      code: 2002,
      message: 'Required field is empty or null: partnerMembershipId',
    });
  });

  it('links again after expiry, reusing the membership id on record', async () => {
    const mobile = fresh();
    await link(server, [
      [{ mobile }, [{ partnerProgramName: 'SPP_2', customerPartnerReference: { partnerMembershipId: 'OLD' } }]],
    ]);
    server.clock.advance({ hours: 24 * 31 });
    try {
      expect((await membershipOf(server, mobile, 'SPP_2')).membershipState).toBe('EXPIRED');
      const again = await link(server, [[{ mobile }, [{ partnerProgramName: 'SPP_2' }]]]);
      expect(entryCode(again.body)).toBe(200);
      expect(await membershipOf(server, mobile, 'SPP_2')).toMatchObject({
        membershipState: 'ACTIVE',
        partnerMembershipId: 'OLD',
        partnerProgramMembershipStartDate: '2026-07-16T12:00:00+05:30',
      });
    } finally {
      server.clock.set(NOW);
    }
  });

  it('allows one SUPPLEMENTARY program at a time when the loyalty program says so (2019)', async () => {
    const mobile = fresh();
    const response = await link(server, [
      [
        { mobile },
        [
          {
            partnerProgramName: 'SPP_2',
            customerPartnerReference: { partnerMembershipId: 'a', membershipStartDate: '2026-09-01' },
          },
          { partnerProgramName: 'SPP_1', customerPartnerReference: { partnerMembershipId: 'b' } },
          { partnerProgramName: 'Goldstar', customerPartnerReference: { partnerMembershipId: 'c' } },
        ],
      ],
    ]);
    expect([0, 1, 2].map((p) => entryCode(response.body, 0, p))).toEqual([200, 2019, 200]);
    expect(response.status).toBe(201);
    expect(response.body.linkCustomers[0].linkToPartnerPrograms[1].partnerLinkStatus.message).toBe(
      'Customer can only be linked to one supplementary partner program at a time',
    );
  });

  it('does not limit SUPPLEMENTARY programs of a loyalty program without the setting', async () => {
    const mobile = '919800000002';
    const response = await link(server, [
      [
        { mobile },
        [
          { partnerProgramName: 'SPP_B', customerPartnerReference: { partnerMembershipId: 'a' } },
          { partnerProgramName: 'SPP_C', customerPartnerReference: { partnerMembershipId: 'b' } },
          { partnerProgramName: 'SPP_1', customerPartnerReference: { partnerMembershipId: 'c' } },
        ],
      ],
    ]);
    expect([0, 1, 2].map((p) => entryCode(response.body, 0, p))).toEqual([200, 200, 200]);
  });
});

describe('step 7: warning 1302', () => {
  it('links and warns when the program expires before the membership ends, naming the customer index', async () => {
    const response = await link(server, [
      [
        { mobile: fresh() },
        [{ partnerProgramName: 'Coalition', customerPartnerReference: { partnerMembershipId: 'a' } }],
      ],
      [
        { mobile: fresh() },
        [{ partnerProgramName: 'spp_short', customerPartnerReference: { partnerMembershipId: 'b' } }],
      ],
    ]);
    expect(response.status).toBe(200);
    expect(entryCode(response.body, 1)).toBe(200);
    expect(response.body.warnings).toEqual([
      {
        status: false,
        code: 1302,
        message: 'Supplementary program expiry is before membership expiry',
        customerIndex: 1,
        partnerProgramName: 'spp_short',
      },
    ]);
  });
});
