import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brandDeclarations, entryCode, HISTORY_ONLY_TILL, link, mobileOf, NOW, TILL } from '../support/fixtures.js';
import { activityRows, membershipOf } from '../support/memberships.js';
import { startTestServer, type TestServer } from '../support/server.js';

// Every check of SPEC §6 and the batch rules of §3a, through real HTTP. Each test uses customers
// of its own (mobileOf(1) also exists in org 200, so numbering starts at 2).
let server: TestServer;
let next = 2;
const fresh = () => mobileOf(next++);
const DELINK = '/v2/partnerProgram/deLinkCustomer';

beforeAll(async () => {
  server = await startTestServer({ declarations: brandDeclarations(), now: NOW, defaultAuth: TILL });
});
afterAll(() => server.close());

type Item = [Record<string, unknown>, unknown[]];

function delink(items: Item[]) {
  return server.request('POST', DELINK, {
    body: { deLinkCustomers: items.map(([customer, programs]) => ({ customer, deLinkFromPartnerPrograms: programs })) },
  });
}

const typeAndSource = (a: { activity_type: string; source: string }) => [a.activity_type, a.source];

const from = (...names: string[]) => names.map((partnerProgramName) => ({ partnerProgramName }));

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function statusOf(body: any, c = 0, p = 0): { status: boolean; code: number; message: string } {
  return body.deLinkCustomers[c].deLinkFromPartnerPrograms[p].partnerDeLinkStatus;
}

/** A fresh customer linked to `program` (with `reference` added to the link). */
async function linkedTo(program: string, reference: Record<string, unknown> = {}, mobile = fresh()) {
  const response = await link(server, [
    [
      { mobile },
      [{ partnerProgramName: program, customerPartnerReference: { partnerMembershipId: `M-${mobile}`, ...reference } }],
    ],
  ]);
  expect(entryCode(response.body)).toBe(200);
  return mobile;
}

async function membershipRowIds(mobile: string) {
  const rows = await server.database.db
    .selectFrom('memberships as m')
    .innerJoin('customers as c', (j) => j.onRef('c.org_id', '=', 'm.org_id').onRef('c.id', '=', 'm.customer_id'))
    .select('m.id')
    .where('c.org_id', '=', 100)
    .where('c.mobile', '=', mobile)
    .execute();
  return rows.map((r) => Number(r.id));
}

async function activityCount() {
  const row = await server.database.db
    .selectFrom('membership_activities')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

describe('success', () => {
  it('delinks an EXTERNAL membership, keeping its history', async () => {
    const mobile = await linkedTo('Goldstar', { partnerTierName: 'Gold' });
    const response = await delink([[{ mobile }, from('Goldstar')]]);
    expect(response.status).toBe(200);
    const item = response.body.deLinkCustomers[0];
    expect(item.customer).toMatchObject({
      mobile,
      email: `c${mobile.slice(-5)}@example.com`,
      externalId: `EXT${mobile.slice(-5)}`,
      status: { status: true, code: 1000 },
    });
    expect(item.customer.id).toEqual(expect.any(Number));
    expect(item.deLinkFromPartnerPrograms).toEqual([
      { partnerProgramName: 'Goldstar', partnerDeLinkStatus: { status: true, code: 200, message: 'Success' } },
    ]);
    expect(response.body.warnings).toEqual([]);
    expect(await membershipOf(server, mobile, 'Goldstar')).toMatchObject({
      membershipState: 'DELINKED',
      linked: false,
      partnerMembershipId: `M-${mobile}`,
      partnerProgramMembershipStartDate: '2026-06-15T12:00:00+05:30',
    });
    expect((await activityRows(server.database.db, mobile, 'Goldstar')).map(typeAndSource)).toEqual([
      ['ENROLLMENT', 'API'],
      ['DELINKING', 'API'],
    ]);
  });

  it('delinks an ACTIVE SUPPLEMENTARY membership, keeping its period', async () => {
    const mobile = await linkedTo('SPP_1');
    expect(statusOf((await delink([[{ mobile }, from('spp_1')]])).body).code).toBe(200);
    expect(await membershipOf(server, mobile, 'SPP_1')).toMatchObject({
      membershipState: 'DELINKED',
      linked: false,
      partnerProgramMembershipStartDate: '2026-06-15T12:00:00+05:30',
      partnerProgramMembershipEndDate: '2027-06-15T12:00:00+05:30',
      pendingRelinkStartDate: null,
    });
  });

  it('delinks a SCHEDULED membership, which then never starts', async () => {
    const mobile = await linkedTo('SPP_2', { membershipStartDate: '2026-07-01' });
    expect(statusOf((await delink([[{ mobile }, from('SPP_2')]])).body).code).toBe(200);
    server.clock.set('2026-07-02T00:00:00Z');
    try {
      expect(await membershipOf(server, mobile, 'SPP_2')).toMatchObject({ membershipState: 'DELINKED', linked: false });
    } finally {
      server.clock.set(NOW);
    }
  });

  it('cancels a pending relink: RELINK_CANCELLED, then DELINKING', async () => {
    const mobile = await linkedTo('SPP_2');
    await link(server, [
      [{ mobile }, [{ partnerProgramName: 'SPP_2', customerPartnerReference: { membershipStartDate: '2026-08-01' } }]],
    ]);
    expect(statusOf((await delink([[{ mobile }, from('SPP_2')]])).body).code).toBe(200);
    expect(await membershipOf(server, mobile, 'SPP_2')).toMatchObject({
      membershipState: 'DELINKED',
      pendingRelinkStartDate: null,
    });
    expect((await activityRows(server.database.db, mobile, 'SPP_2')).map(typeAndSource)).toEqual([
      ['ENROLLMENT', 'API'],
      ['SUPPLEMENTARY_MEMBERSHIP_STARTED', 'API'],
      ['RELINK_SCHEDULED', 'API'],
      ['RELINK_CANCELLED', 'API'],
      ['DELINKING', 'API'],
    ]);
  });

  it('delinks an expired membership that has a pending relink, but not one without', async () => {
    const [withRelink, without] = [await linkedTo('SPP_2'), await linkedTo('SPP_2')];
    await link(server, [
      [
        { mobile: withRelink },
        [{ partnerProgramName: 'SPP_2', customerPartnerReference: { membershipStartDate: '2026-08-01' } }],
      ],
    ]);
    server.clock.advance({ hours: 24 * 31 });
    try {
      expect(await membershipOf(server, withRelink, 'SPP_2')).toMatchObject({
        membershipState: 'EXPIRED',
        pendingRelinkStartDate: '2026-08-01T00:00:00+05:30',
      });
      const response = await delink([
        [{ mobile: withRelink }, from('SPP_2')],
        [{ mobile: without }, from('SPP_2')],
      ]);
      expect(response.status).toBe(201);
      expect([statusOf(response.body, 0).code, statusOf(response.body, 1).code]).toEqual([200, 2004]);
      expect(await membershipOf(server, withRelink, 'SPP_2')).toMatchObject({
        membershipState: 'DELINKED',
        pendingRelinkStartDate: null,
        partnerProgramMembershipEndDate: '2026-07-15T12:00:00+05:30',
      });
      expect((await activityRows(server.database.db, withRelink, 'SPP_2')).map(typeAndSource)).toEqual([
        ['ENROLLMENT', 'API'],
        ['SUPPLEMENTARY_MEMBERSHIP_STARTED', 'API'],
        ['RELINK_SCHEDULED', 'API'],
        ['SUPPLEMENTARY_MEMBERSHIP_EXPIRED', 'JOB'],
        ['RELINK_CANCELLED', 'API'],
        ['DELINKING', 'API'],
      ]);
      server.clock.set('2026-08-02T00:00:00Z');
      expect((await membershipOf(server, withRelink, 'SPP_2')).membershipState).toBe('DELINKED');
    } finally {
      server.clock.set(NOW);
    }
  });

  it('links again after a delink, reusing the membership row and id', async () => {
    const mobile = await linkedTo('Goldstar', { partnerTierName: 'Platinum' });
    await linkedTo('SPP_2', {}, mobile);
    const rows = await membershipRowIds(mobile);
    expect((await delink([[{ mobile }, from('Goldstar', 'SPP_2')]])).status).toBe(200);
    server.clock.advance({ hours: 1 });
    try {
      const again = await link(server, [
        [{ mobile }, [{ partnerProgramName: 'Goldstar' }, { partnerProgramName: 'SPP_2' }]],
      ]);
      expect([entryCode(again.body, 0, 0), entryCode(again.body, 0, 1)]).toEqual([200, 200]);
      expect(await membershipOf(server, mobile, 'Goldstar')).toMatchObject({
        membershipState: 'LINKED',
        linked: true,
        partnerMembershipId: `M-${mobile}`,
        partnerTierNumber: 1,
      });
      expect(await membershipOf(server, mobile, 'SPP_2')).toMatchObject({
        membershipState: 'ACTIVE',
        partnerMembershipId: `M-${mobile}`,
        partnerProgramMembershipStartDate: '2026-06-15T13:00:00+05:30',
      });
      expect((await membershipRowIds(mobile)).sort()).toEqual(rows.sort());
    } finally {
      server.clock.set(NOW);
    }
  });
});

describe('the checks, in order', () => {
  it.each([
    ['no name', {}, 2002, 'Required field is empty or null: partnerProgramName'],
    ['an empty name', { partnerProgramName: '' }, 2002, 'Required field is empty or null: partnerProgramName'],
    [
      'a name that is not a string',
      { partnerProgramName: 42 },
      2002,
      'Required field is empty or null: partnerProgramName',
    ],
    ['an unknown program', { partnerProgramName: 'Nope' }, 2006, 'Partner program not found'],
    ['a program of another org', { partnerProgramName: 'OtherOnly' }, 2006, 'Partner program not found'],
    [
      'a program never linked',
      { partnerProgramName: 'Coalition' },
      2004,
      'Customer not linked with the partner program',
    ],
    [
      'an inactive program is only not linked',
      { partnerProgramName: 'Dormant' },
      2004,
      'Customer not linked with the partner program',
    ],
    [
      'an expired program is only not linked',
      { partnerProgramName: 'Bygone' },
      2004,
      'Customer not linked with the partner program',
    ],
  ])('%s → %i', async (_what, entry, code, message) => {
    const mobile = await linkedTo('Goldstar');
    const response = await delink([[{ mobile }, [entry]]]);
    expect(statusOf(response.body)).toEqual({ status: false, code, message });
    expect(response.status).toBe(400);
    expect((await membershipOf(server, mobile, 'Goldstar')).membershipState).toBe('LINKED');
  });

  it('answers 2004 to a second delink', async () => {
    const mobile = await linkedTo('Coalition');
    expect(statusOf((await delink([[{ mobile }, from('Coalition')]])).body).code).toBe(200);
    const again = await delink([[{ mobile }, from('Coalition')]]);
    expect(statusOf(again.body)).toEqual({
      status: false,
      code: 2004,
      message: 'Customer not linked with the partner program',
    });
    expect((await activityRows(server.database.db, mobile, 'Coalition')).map(typeAndSource)).toEqual([
      ['ENROLLMENT', 'API'],
      ['DELINKING', 'API'],
    ]);
  });
});

describe('batches', () => {
  let linked: string;
  beforeAll(async () => {
    linked = await linkedTo('Goldstar');
  });

  const cases: Array<[string, () => Promise<{ status: number; body: unknown }>, number, number]> = [
    [
      'no credentials',
      () =>
        server.request('POST', DELINK, {
          body: { deLinkCustomers: [{ customer: { mobile: linked }, deLinkFromPartnerPrograms: from('Goldstar') }] },
          auth: null,
        }),
      401,
      401,
    ],
    [
      'a till without DEFAULT',
      () =>
        server.request('POST', DELINK, {
          body: { deLinkCustomers: [{ customer: { mobile: linked }, deLinkFromPartnerPrograms: from('Goldstar') }] },
          auth: HISTORY_ONLY_TILL,
        }),
      403,
      403,
    ],
    [
      'text/plain',
      () => server.request('POST', DELINK, { rawBody: '{}', headers: { 'content-type': 'text/plain' } }),
      415,
      415,
    ],
    [
      'malformed JSON',
      () =>
        server.request('POST', DELINK, {
          rawBody: '{"deLinkCustomers": [',
          headers: { 'content-type': 'application/json' },
        }),
      400,
      400,
    ],
    ['a JSON string', () => server.request('POST', DELINK, { body: 'x' }), 400, 400],
    ['no deLinkCustomers', () => server.request('POST', DELINK, { body: {} }), 400, 2002],
    ['an empty deLinkCustomers', () => server.request('POST', DELINK, { body: { deLinkCustomers: [] } }), 400, 2002],
    ['deLinkCustomers: null', () => server.request('POST', DELINK, { body: { deLinkCustomers: null } }), 400, 2002],
    [
      'deLinkCustomers not an array',
      () => server.request('POST', DELINK, { body: { deLinkCustomers: 'x' } }),
      400,
      400,
    ],
    [
      '51 customers',
      () => delink(Array.from({ length: 51 }, (): Item => [{ mobile: linked }, from('Goldstar')])),
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
    expect((await membershipOf(server, linked, 'Goldstar')).membershipState).toBe('LINKED');
  });

  it('answers 200 when all succeed, 201 when some fail, 400 when all fail', async () => {
    const [a, b, c] = [await linkedTo('Goldstar'), await linkedTo('Goldstar'), await linkedTo('Goldstar')];
    expect(
      (
        await delink([
          [{ mobile: a }, from('Goldstar')],
          [{ mobile: b }, from('Goldstar')],
        ])
      ).status,
    ).toBe(200);
    expect(
      (
        await delink([
          [{ mobile: a }, from('Goldstar')],
          [{ mobile: c }, from('Goldstar')],
        ])
      ).status,
    ).toBe(201);
    expect(
      (
        await delink([
          [{ mobile: a }, from('Goldstar')],
          [{ mobile: '9' }, from('Goldstar')],
        ])
      ).status,
    ).toBe(400);
  });

  it('processes duplicates inside one batch as sequential calls', async () => {
    const mobile = await linkedTo('Goldstar');
    await linkedTo('Coalition', {}, mobile);
    const response = await delink([
      [{ mobile }, from('Goldstar', 'GOLDSTAR')],
      [{ mobile }, from('Coalition')],
      [{ mobile }, from('coalition')],
    ]);
    expect(response.status).toBe(201);
    expect(
      [
        statusOf(response.body, 0, 0),
        statusOf(response.body, 0, 1),
        statusOf(response.body, 1),
        statusOf(response.body, 2),
      ].map((s) => s.code),
    ).toEqual([200, 2004, 200, 2004]);
    expect(response.body.deLinkCustomers[0].deLinkFromPartnerPrograms[1].partnerProgramName).toBe('GOLDSTAR');
  });

  it('lets malformed items and entries fail alone', async () => {
    const mobile = await linkedTo('Goldstar');
    const response = await server.request('POST', DELINK, {
      body: {
        deLinkCustomers: [
          null,
          { customer: 'nope', deLinkFromPartnerPrograms: from('Goldstar') },
          {
            customer: { mobile },
            deLinkFromPartnerPrograms: [null, 7, { partnerProgramName: ['x'] }, { partnerProgramName: 'Goldstar' }],
          },
          { customer: { mobile } },
          { customer: { mobile }, deLinkFromPartnerPrograms: {} },
          { customer: { mobile: '910000000000' }, deLinkFromPartnerPrograms: from('Goldstar') },
        ],
      },
    });
    expect(response.status).toBe(201);
    const [nullItem, badCustomer, mixed, noList, listNotArray, unknown] = response.body.deLinkCustomers;
    expect(nullItem.customer.status.code).toBe(1015);
    expect(badCustomer.deLinkFromPartnerPrograms[0]).toEqual({
      partnerProgramName: 'Goldstar',
      partnerDeLinkStatus: { status: false, code: 1015, message: 'No identifier provided' },
    });
    expect(
      mixed.deLinkFromPartnerPrograms.map((p: { partnerDeLinkStatus: { code: number } }) => p.partnerDeLinkStatus.code),
    ).toEqual([2002, 2002, 2002, 200]);
    expect(noList.deLinkFromPartnerPrograms).toEqual([
      {
        partnerProgramName: '',
        partnerDeLinkStatus: {
          status: false,
          code: 2002,
          message: 'Required field is empty or null: deLinkFromPartnerPrograms',
        },
      },
    ]);
    expect(listNotArray.deLinkFromPartnerPrograms[0].partnerDeLinkStatus.code).toBe(2002);
    expect(unknown.customer).toEqual({
      mobile: '910000000000',
      status: { status: false, code: 1011, message: 'Cannot find customer for provided identifier' },
    });
    expect((await membershipOf(server, mobile, 'Goldstar')).membershipState).toBe('DELINKED');
  });
});
