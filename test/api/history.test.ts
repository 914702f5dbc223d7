import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Declarations } from '../../src/domain/configuration/declarations.js';
import {
  brandDeclarations,
  HISTORY_ONLY_TILL,
  link,
  lookup,
  mobileOf,
  NOW,
  OTHER_ORG_TILL,
  TILL,
} from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/server.js';

// The activity history (SPEC §7), through real HTTP.
const DEFAULT_ONLY_TILL: [string, string] = ['default.till', 'default-secret'];
const OTHER_ORG_HISTORY_TILL: [string, string] = ['other.history.till', 'other-history-secret'];
const NO_ACTIVITY = { status: false, code: 2011, message: 'No partner program activity found for customer' };
/** The whole answer for a customer found with no activity (after filters). */
const NO_ACTIVITY_ANSWER = {
  pagination: { limit: 10, offset: 0, total: 0 },
  data: [],
  warnings: [],
  errors: [NO_ACTIVITY],
};

function declarations(): Declarations {
  const declared = brandDeclarations(40);
  const [brand, other] = declared.orgs;
  const goldstar = brand!.loyaltyPrograms!.flatMap((l) => l.partnerPrograms ?? []).find((p) => p.name === 'Goldstar');
  goldstar!.description = 'Airline miles coalition';
  brand!.tills!.push({ username: DEFAULT_ONLY_TILL[0], password: DEFAULT_ONLY_TILL[1], accessGroups: ['DEFAULT'] });
  other!.tills!.push({
    username: OTHER_ORG_HISTORY_TILL[0],
    password: OTHER_ORG_HISTORY_TILL[1],
    accessGroups: ['PARTNER_PROGRAM'],
  });
  return declared;
}

let server: TestServer;
const ids: Record<string, number> = {};

beforeAll(async () => {
  server = await startTestServer({ declarations: declarations(), now: NOW, defaultAuth: TILL });
  const programs = await server.request('GET', '/admin/v1/orgs/100/partnerPrograms', { admin: true });
  for (const p of programs.body.partnerPrograms) ids[p.name] = p.id;
});
afterAll(() => server.close());

const PATH = '/v2/partnerProgram/customerActivityHistories';
const query = (mobile: string, extra = '') =>
  `identifierName=mobile&identifierValue=${mobile}&activityType=LINKINGUPDATES${extra}`;
const history = (q: string, auth?: [string, string] | null) =>
  server.request('GET', `${PATH}?${q}`, auth === undefined ? {} : { auth });
const programIds = (body: { data: Array<{ partnerProgramDetails: { partnerProgramId: number } }> }) =>
  body.data.map((d) => d.partnerProgramDetails.partnerProgramId);
const activities = (entry: { customerActivityHistory: Array<{ activityType: string; activityDate: string }> }) =>
  entry.customerActivityHistory.map((a) => [a.activityType, a.activityDate]);

/** Links `mobile` to each program in turn, one minute apart, so each has its own instant. */
async function linkOneByOne(mobile: string, programs: string[]) {
  try {
    for (const [i, name] of programs.entries()) {
      if (i > 0) server.clock.advance({ minutes: 1 });
      const response = await link(server, [
        [
          { mobile },
          [{ partnerProgramName: name, customerPartnerReference: { partnerMembershipId: `${name}-${mobile}` } }],
        ],
      ]);
      expect(response.status).toBe(200);
    }
  } finally {
    server.clock.set(NOW);
  }
}

describe('GET /v2/partnerProgram/customerActivityHistories', () => {
  it('shows every field of an EXTERNAL and a SUPPLEMENTARY entry, most recently changed first', async () => {
    const mobile = mobileOf(10);
    await link(server, [
      [
        { mobile },
        [
          {
            partnerProgramName: 'Goldstar',
            customerPartnerReference: {
              partnerMembershipId: 'G-10',
              partnerTierName: 'gold',
              partnerTierExpiryDate: '2027-06-30T23:59:59+05:30',
            },
          },
        ],
      ],
    ]);
    server.clock.advance({ minutes: 1 });
    await link(server, [
      [{ mobile }, [{ partnerProgramName: 'SPP_1', customerPartnerReference: { partnerMembershipId: 'S-10' } }]],
    ]);
    server.clock.set(NOW);

    const response = await history(query(mobile));
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      pagination: { limit: 10, offset: 0, total: 2 },
      data: [
        {
          partnerProgramDetails: {
            programName: 'Main',
            partnerProgramId: ids.SPP_1,
            partnerProgramName: 'SPP_1',
            partnerProgramDescription: '',
            partnerTierNumber: null,
            partnerTierName: null,
            partnerTierExpiryDate: null,
            partnerMembershipId: 'S-10',
            partnerProgramType: 'SUPPLEMENTARY',
            partnerProgramMembershipStartDate: '2026-06-15T06:31:00.000Z',
            partnerProgramMembershipEndDate: '2027-06-15T06:31:00.000Z',
            partnerProgramMembershipLastUpdatedDate: '2026-06-15T06:31:00.000Z',
            partnerProgramMembershipLastUpdatedActivity: 'SUPPLEMENTARY_MEMBERSHIP_STARTED',
            benefitsSummary: [],
            linked: true,
            tierBased: false,
          },
          customerActivityHistory: [
            { activityType: 'SUPPLEMENTARY_MEMBERSHIP_STARTED', activityDate: '2026-06-15T06:31:00.000Z' },
            { activityType: 'ENROLLMENT', activityDate: '2026-06-15T06:31:00.000Z' },
          ],
        },
        {
          partnerProgramDetails: {
            programName: 'Main',
            partnerProgramId: ids.Goldstar,
            partnerProgramName: 'Goldstar',
            partnerProgramDescription: 'Airline miles coalition',
            partnerTierNumber: 2,
            partnerTierName: 'Gold',
            partnerTierExpiryDate: '2027-06-30T18:29:59.000Z',
            partnerMembershipId: 'G-10',
            partnerProgramType: 'EXTERNAL',
            partnerProgramMembershipStartDate: '2026-06-15T06:30:00.000Z',
            partnerProgramMembershipEndDate: null,
            partnerProgramMembershipLastUpdatedDate: '2026-06-15T06:30:00.000Z',
            partnerProgramMembershipLastUpdatedActivity: 'ENROLLMENT',
            benefitsSummary: [],
            linked: true,
            tierBased: true,
          },
          customerActivityHistory: [{ activityType: 'ENROLLMENT', activityDate: '2026-06-15T06:30:00.000Z' }],
        },
      ],
      warnings: [],
      errors: [],
    });

    // The alias answers the same, `source` changes nothing, and every identifier finds the customer.
    expect((await server.request('GET', `/v2/partnerProgram/customerActivityHistory?${query(mobile)}`)).body).toEqual(
      response.body,
    );
    expect((await history(query(mobile, '&source=instore'))).body).toEqual(response.body);
    const id = (await lookup(server, mobile)).body.customer.id;
    for (const [name, value] of [
      ['id', id],
      ['email', 'c00010%40example.com'],
      ['externalId', 'EXT00010'],
    ]) {
      expect(
        (await history(`identifierName=${name}&identifierValue=${value}&activityType=LINKINGUPDATES`)).body,
      ).toEqual(response.body);
    }
  });

  it('orders programs by their latest change (ties by program id) and pages them', async () => {
    const mobile = mobileOf(11);
    await linkOneByOne(mobile, ['Goldstar', 'Coalition', 'SPP_2']);
    const all = await history(query(mobile));
    expect(programIds(all.body)).toEqual([ids.SPP_2, ids.Coalition, ids.Goldstar]);

    const firstPage = await history(query(mobile, '&limit=2'));
    expect(firstPage.body.pagination).toEqual({ limit: 2, offset: 0, total: 3 });
    expect(programIds(firstPage.body)).toEqual([ids.SPP_2, ids.Coalition]);
    const secondPage = await history(query(mobile, '&limit=2&offset=2'));
    expect(secondPage.body.pagination).toEqual({ limit: 2, offset: 2, total: 3 });
    expect(programIds(secondPage.body)).toEqual([ids.Goldstar]);
    expect(secondPage.body.data[0].customerActivityHistory).toHaveLength(1);
    expect((await history(query(mobile, '&limit=0'))).body).toEqual({
      pagination: { limit: 0, offset: 0, total: 3 },
      data: [],
      warnings: [],
      errors: [],
    });
    expect((await history(query(mobile, '&offset=3'))).body).toEqual({
      pagination: { limit: 10, offset: 3, total: 3 },
      data: [],
      warnings: [],
      errors: [],
    });
    expect((await history(query(mobile, '&limit=&offset='))).body.pagination).toEqual({
      limit: 10,
      offset: 0,
      total: 3,
    });

    const sameInstant = mobileOf(12);
    await link(server, [
      [
        { mobile: sameInstant },
        [
          { partnerProgramName: 'Coalition', customerPartnerReference: { partnerMembershipId: 'C-12' } },
          { partnerProgramName: 'Goldstar', customerPartnerReference: { partnerMembershipId: 'G-12' } },
        ],
      ],
    ]);
    expect(programIds((await history(query(sameInstant))).body)).toEqual([ids.Goldstar, ids.Coalition]);
  });

  it('filters by partnerProgramId and partnerProgramType', async () => {
    const mobile = mobileOf(13);
    await linkOneByOne(mobile, ['Goldstar', 'Coalition', 'SPP_2']);
    const external = await history(query(mobile, '&partnerProgramType=EXTERNAL'));
    expect(programIds(external.body)).toEqual([ids.Coalition, ids.Goldstar]);
    expect(external.body.pagination.total).toBe(2);
    expect(programIds((await history(query(mobile, '&partnerProgramType=supplementary'))).body)).toEqual([ids.SPP_2]);
    const one = await history(query(mobile, `&partnerProgramId=${ids.Goldstar}`));
    expect(programIds(one.body)).toEqual([ids.Goldstar]);
    expect(one.body.pagination.total).toBe(1);
    for (const filter of [
      `&partnerProgramId=${ids.SPP_1}`,
      `&partnerProgramId=${ids.Goldstar}&partnerProgramType=SUPPLEMENTARY`,
    ]) {
      const none = await history(query(mobile, filter));
      expect(none.status).toBe(200);
      expect(none.body).toEqual(NO_ACTIVITY_ANSWER);
    }
  });

  it('accepts every spelling of activityType; benefits answer 2011, anything else 2014', async () => {
    const mobile = mobileOf(14);
    await linkOneByOne(mobile, ['Coalition']);
    for (const spelling of ['LINKINGUPDATES', 'linkingUpdates', 'LINKING_UPDATES', 'linkingupdates']) {
      const response = await history(`identifierName=mobile&identifierValue=${mobile}&activityType=${spelling}`);
      expect(response.status).toBe(200);
      expect(programIds(response.body)).toEqual([ids.Coalition]);
    }
    for (const spelling of [
      'BENEFITSAVAILED',
      'benefitsAvailed',
      'BENEFITS_AVAILED',
      'BENEFITSAVAILED&startDate=2026-01-01&endDate=2026-06-01',
    ]) {
      const response = await history(`identifierName=mobile&identifierValue=${mobile}&activityType=${spelling}`);
      expect(response.status).toBe(200);
      expect(response.body).toEqual(NO_ACTIVITY_ANSWER);
    }
    for (const bad of ['&activityType=LINKS', '&activityType=', '']) {
      const response = await history(`identifierName=mobile&identifierValue=${mobile}${bad}`);
      expect(response.status).toBe(400);
      expect(response.body).toEqual({
        errors: [{ status: false, code: 2014, message: 'activityType must be LINKINGUPDATES or BENEFITSAVAILED' }],
        warnings: [],
      });
    }
    for (const dates of ['&startDate=2026-01-01', '&endDate=2026-06-01']) {
      const response = await history(query(mobile, dates));
      expect(response.status).toBe(400);
      expect(response.body.errors).toEqual([
        { status: false, code: 2015, message: expect.stringContaining('LINKINGUPDATES') },
      ]);
    }
  });

  it('answers 2011 for a customer with no activity', async () => {
    const response = await history(query(mobileOf(15)));
    expect(response.status).toBe(200);
    expect(response.body).toEqual(NO_ACTIVITY_ANSWER);
  });

  it('lists a relink and the transitions that fell due, as the clock stands, before any scheduler ran', async () => {
    const mobile = mobileOf(16);
    await linkOneByOne(mobile, ['SPP_2', 'Goldstar']);
    server.clock.advance({ minutes: 2 });
    await link(server, [
      [{ mobile }, [{ partnerProgramName: 'SPP_2', customerPartnerReference: { membershipStartDate: '2026-08-01' } }]],
    ]);
    server.clock.set(NOW);
    const relinked = await history(query(mobile, `&partnerProgramId=${ids.SPP_2}`));
    expect(activities(relinked.body.data[0])).toEqual([
      ['RELINK_SCHEDULED', '2026-06-15T06:32:00.000Z'],
      ['SUPPLEMENTARY_MEMBERSHIP_STARTED', '2026-06-15T06:30:00.000Z'],
      ['ENROLLMENT', '2026-06-15T06:30:00.000Z'],
    ]);

    try {
      // 31 days on: the 30-day period has ended, so SPP_2 changed last, after Goldstar.
      server.clock.advance({ hours: 31 * 24 });
      const expired = await history(query(mobile));
      expect(programIds(expired.body)).toEqual([ids.SPP_2, ids.Goldstar]);
      expect(expired.body.data[0].partnerProgramDetails).toMatchObject({
        linked: false,
        partnerProgramMembershipEndDate: '2026-07-15T06:30:00.000Z',
        partnerProgramMembershipLastUpdatedDate: '2026-07-15T06:30:00.000Z',
        partnerProgramMembershipLastUpdatedActivity: 'SUPPLEMENTARY_MEMBERSHIP_EXPIRED',
      });
      expect(activities(expired.body.data[0])[0]).toEqual([
        'SUPPLEMENTARY_MEMBERSHIP_EXPIRED',
        '2026-07-15T06:30:00.000Z',
      ]);
      expect((await lookup(server, mobile)).body.linkedPartnerPrograms).toContainEqual(
        expect.objectContaining({ partnerProgramName: 'SPP_2', membershipState: 'EXPIRED', linked: false }),
      );

      server.clock.set('2026-08-02T00:00:00Z');
      const active = (await history(query(mobile, `&partnerProgramId=${ids.SPP_2}`))).body.data[0];
      expect(active.partnerProgramDetails).toMatchObject({
        linked: true,
        partnerProgramMembershipStartDate: '2026-07-31T18:30:00.000Z',
        partnerProgramMembershipEndDate: '2026-08-30T18:30:00.000Z',
      });
      expect(activities(active).slice(0, 2)).toEqual([
        ['SUPPLEMENTARY_MEMBERSHIP_STARTED', '2026-07-31T18:30:00.000Z'],
        ['SUPPLEMENTARY_MEMBERSHIP_EXPIRED', '2026-07-15T06:30:00.000Z'],
      ]);
      expect(active.customerActivityHistory).toHaveLength(5);
    } finally {
      server.clock.set(NOW);
    }
  });

  it('a plain SPP_2 link shows as expired 31 days later, with the end instant', async () => {
    const mobile = mobileOf(17);
    await linkOneByOne(mobile, ['SPP_2']);
    try {
      server.clock.advance({ hours: 31 * 24 });
      const entry = (await history(query(mobile))).body.data[0];
      expect(entry.partnerProgramDetails.linked).toBe(false);
      expect(activities(entry)).toEqual([
        ['SUPPLEMENTARY_MEMBERSHIP_EXPIRED', '2026-07-15T06:30:00.000Z'],
        ['SUPPLEMENTARY_MEMBERSHIP_STARTED', '2026-06-15T06:30:00.000Z'],
        ['ENROLLMENT', '2026-06-15T06:30:00.000Z'],
      ]);
    } finally {
      server.clock.set(NOW);
    }
  });

  it.each([
    ['identifierName', 'identifierName=phone&identifierValue=1&activityType=LINKINGUPDATES'],
    ['identifierName', 'identifierValue=1&activityType=LINKINGUPDATES'],
    ['identifierValue', 'identifierName=mobile&activityType=LINKINGUPDATES'],
    ['identifierValue', 'identifierName=mobile&identifierValue=&activityType=LINKINGUPDATES'],
    ['identifierValue', 'identifierName=id&identifierValue=abc&activityType=LINKINGUPDATES'],
    ['limit', query(mobileOf(10), '&limit=11')],
    ['limit', query(mobileOf(10), '&limit=-1')],
    ['limit', query(mobileOf(10), '&limit=x')],
    ['limit', query(mobileOf(10), '&limit=1.5')],
    ['limit', query(mobileOf(10), '&limit=1&limit=2')],
    ['offset', query(mobileOf(10), '&offset=-1')],
    ['offset', query(mobileOf(10), '&offset=x')],
    ['partnerProgramType', query(mobileOf(10), '&partnerProgramType=INTERNAL')],
    ['partnerProgramId', query(mobileOf(10), '&partnerProgramId=0')],
    ['partnerProgramId', query(mobileOf(10), '&partnerProgramId=abc')],
  ])('rejects a bad %s with 400 (%s)', async (parameter, q) => {
    const response = await history(q);
    expect(response.status).toBe(400);
    expect(response.body).toEqual({
      errors: [{ status: false, code: 400, message: expect.stringContaining(parameter) }],
      warnings: [],
    });
  });

  it("answers 404 with 1011 for an unknown customer and for another org's customer", async () => {
    const unknown = await history(query('910000000000'));
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({
      errors: [{ status: false, code: 1011, message: 'Cannot find customer for provided identifier' }],
      warnings: [],
    });
    expect(
      (
        await history(
          'identifierName=email&identifierValue=c00010%40example.com&activityType=LINKINGUPDATES',
          OTHER_ORG_HISTORY_TILL,
        )
      ).status,
    ).toBe(404);
    // mobileOf(1) is a customer of both orgs: org 200 sees only its own, which has no activity.
    await linkOneByOne(mobileOf(1), ['Coalition']);
    const otherOrg = await history(query(mobileOf(1)), OTHER_ORG_HISTORY_TILL);
    expect(otherOrg.status).toBe(200);
    expect(otherOrg.body.errors).toEqual([NO_ACTIVITY]);
  });

  it('needs credentials and the PARTNER_PROGRAM access group', async () => {
    const mobile = mobileOf(18);
    await linkOneByOne(mobile, ['Goldstar', 'Coalition']);
    expect((await history(query(mobile), null)).status).toBe(401);
    for (const till of [DEFAULT_ONLY_TILL, OTHER_ORG_TILL]) {
      const denied = await history(query(mobile), till);
      expect(denied.status).toBe(403);
      expect(denied.body.errors[0]).toMatchObject({ status: false, code: 403 });
    }
    const allowed = await history(query(mobile), HISTORY_ONLY_TILL);
    expect(allowed.status).toBe(200);
    expect(allowed.body.pagination.total).toBe(2);
  });

  it('documents both paths in the OpenAPI document', async () => {
    const doc = (await server.request('GET', '/openapi.json')).body;
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([PATH, '/v2/partnerProgram/customerActivityHistory']),
    );
    expect(doc.components.schemas).toHaveProperty('CustomerActivityHistory');
  });
});
