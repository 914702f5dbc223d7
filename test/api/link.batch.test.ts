import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brandDeclarations, entryCode, HISTORY_ONLY_TILL, link, mobileOf, NOW, TILL } from '../support/fixtures.js';
import { basicHeader, startTestServer, type TestServer } from '../support/server.js';

// Whole-request rules (SPEC §3a), customer resolution, HTTP statuses and hostile input.
let server: TestServer;
let next = 100;
const fresh = () => mobileOf(next++);
const LINK = '/v2/partnerProgram/linkCustomer';
const goldstar = { partnerProgramName: 'Goldstar', customerPartnerReference: { partnerMembershipId: 'm' } };

beforeAll(async () => {
  server = await startTestServer({
    declarations: brandDeclarations(),
    now: NOW,
    defaultAuth: TILL,
    bodyLimitBytes: 64 * 1024,
  });
});
afterAll(() => server.close());

async function membershipCount() {
  const row = await server.database.db
    .selectFrom('memberships')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

describe('whole-request errors change nothing', () => {
  const cases: Array<[string, () => Promise<{ status: number; body: unknown }>, number, number]> = [
    ['no credentials', () => server.request('POST', LINK, { body: { linkCustomers: [] }, auth: null }), 401, 401],
    [
      'a wrong password',
      () => server.request('POST', LINK, { body: { linkCustomers: [] }, auth: [TILL[0], 'nope'] }),
      401,
      401,
    ],
    [
      'an unknown till',
      () => server.request('POST', LINK, { body: { linkCustomers: [] }, auth: ['ghost', 'x'] }),
      401,
      401,
    ],
    [
      'a garbled header',
      () => server.request('POST', LINK, { body: {}, headers: { authorization: 'Basic %%%' } }),
      401,
      401,
    ],
    [
      'a till without DEFAULT',
      () => server.request('POST', LINK, { body: { linkCustomers: [] }, auth: HISTORY_ONLY_TILL }),
      403,
      403,
    ],
    [
      'text/plain',
      () => server.request('POST', LINK, { rawBody: '{}', headers: { 'content-type': 'text/plain' } }),
      415,
      415,
    ],
    ['no content type and no body', () => server.request('POST', LINK), 415, 415],
    [
      'malformed JSON',
      () =>
        server.request('POST', LINK, {
          rawBody: '{"linkCustomers": [',
          headers: { 'content-type': 'application/json' },
        }),
      400,
      400,
    ],
    [
      'an empty JSON body',
      () => server.request('POST', LINK, { rawBody: '', headers: { 'content-type': 'application/json' } }),
      400,
      400,
    ],
    ['a JSON array', () => server.request('POST', LINK, { body: [1, 2] }), 400, 400],
    ['a JSON string', () => server.request('POST', LINK, { body: 'hello' }), 400, 400],
    ['no linkCustomers', () => server.request('POST', LINK, { body: {} }), 400, 2002],
    ['an empty linkCustomers', () => server.request('POST', LINK, { body: { linkCustomers: [] } }), 400, 2002],
    ['linkCustomers: null', () => server.request('POST', LINK, { body: { linkCustomers: null } }), 400, 2002],
    ['linkCustomers not an array', () => server.request('POST', LINK, { body: { linkCustomers: 'x' } }), 400, 400],
    [
      '51 customers',
      () =>
        link(
          server,
          Array.from(
            { length: 51 },
            (_, i) => [{ mobile: mobileOf(150 + i) }, [goldstar]] as [Record<string, unknown>, (typeof goldstar)[]],
          ),
        ),
      400,
      2008,
    ],
    [
      'a body over the limit',
      () =>
        server.request('POST', LINK, { body: { linkCustomers: [{ customer: { mobile: 'x'.repeat(70 * 1024) } }] } }),
      413,
      413,
    ],
    [
      'a __proto__ key',
      () =>
        server.request('POST', LINK, {
          rawBody: '{"linkCustomers":[{"customer":{"mobile":"1"},"__proto__":{"x":1}}]}',
          headers: { 'content-type': 'application/json' },
        }),
      400,
      400,
    ],
  ];

  it.each(cases)('%s → HTTP %i, code %i', async (_name, send, httpStatus, code) => {
    const before = await membershipCount();
    const response = await send();
    expect(response.status).toBe(httpStatus);
    expect(response.body).toEqual({ errors: [{ status: false, code, message: expect.any(String) }], warnings: [] });
    expect(await membershipCount()).toBe(before);
  });
});

describe('customer resolution', () => {
  it.each([
    ['no identifier', {}, 1015, 'No identifier provided'],
    ['empty identifiers', { mobile: '', email: '' }, 1015, 'No identifier provided'],
    ['an unknown mobile', { mobile: '910000000000' }, 1011, 'Cannot find customer for provided identifier'],
    ['an id that is not a number', { id: 'abc' }, 1015, expect.stringContaining('id must be a positive integer')],
    [
      'identifiers of two customers',
      { mobile: mobileOf(1), email: 'c00002@example.com' },
      1011,
      'The provided identifiers do not all belong to the same customer',
    ],
    [
      'one unknown identifier beside a known one',
      { mobile: mobileOf(3), email: 'nobody@example.com' },
      1011,
      expect.any(String),
    ],
    [
      'an identifier of another org only',
      { email: 'other@example.com' },
      1011,
      'Cannot find customer for provided identifier',
    ],
    ['an id past 2^53', { id: '99999999999999999999' }, 1011, expect.any(String)],
    ['an object as identifier', { mobile: { $ne: null } }, 1015, expect.any(String)],
  ])('%s → %i', async (_name, customer, code, message) => {
    const response = await link(server, [[customer, [goldstar, goldstar]]]);
    const item = response.body.linkCustomers[0];
    expect(item.customer.status).toEqual({ status: false, code, message });
    expect(item.customer.id).toBeUndefined();
    expect(item.linkToPartnerPrograms).toEqual([
      { partnerProgramName: 'Goldstar', partnerLinkStatus: { status: false, code, message } },
      { partnerProgramName: 'Goldstar', partnerLinkStatus: { status: false, code, message } },
    ]);
    expect(response.status).toBe(400);
  });

  it('echoes the identifiers as sent when not found', async () => {
    const response = await link(server, [[{ mobile: '910000000000', externalId: '' }, [goldstar]]]);
    expect(response.body.linkCustomers[0].customer).toEqual({
      mobile: '910000000000',
      status: { status: false, code: 1011, message: 'Cannot find customer for provided identifier' },
    });
  });

  it('accepts identifiers as numbers and by id, echoing all four stored identifiers', async () => {
    const mobile = fresh();
    const first = await link(server, [[{ mobile: Number(mobile) }, [goldstar]]]);
    expect(entryCode(first.body)).toBe(200);
    const { id, email, externalId } = first.body.linkCustomers[0].customer;
    const byId = await link(server, [
      [{ id: String(id) }, [{ partnerProgramName: 'Coalition', customerPartnerReference: { partnerMembershipId: 1 } }]],
    ]);
    expect(byId.body.linkCustomers[0].customer).toEqual({
      id,
      mobile,
      email,
      externalId,
      status: { status: true, code: 1000, message: 'Customer successfully retrieved' },
    });
    const all = await link(server, [[{ id, mobile, email, externalId }, [goldstar]]]);
    expect(entryCode(all.body)).toBe(2005);
  });

  it('writes the customer echo in the seed’s field order', async () => {
    const response = await link(server, [[{ mobile: mobileOf(7) }, [{ partnerProgramName: 'Nope' }]]]);
    expect(Object.keys(response.body.linkCustomers[0].customer)).toEqual([
      'id',
      'mobile',
      'email',
      'externalId',
      'status',
    ]);
    expect(Object.keys(response.body.linkCustomers[0])).toEqual(['customer', 'linkToPartnerPrograms']);
  });

  it('echoes an absent stored identifier as ""', async () => {
    const response = await link(server, [[{ mobile: '919800000003' }, [{ partnerProgramName: 'Nope' }]]]);
    expect(response.body.linkCustomers[0].customer).toMatchObject({
      mobile: '919800000003',
      email: '',
      externalId: '',
    });
  });
});

describe('batch semantics', () => {
  it('answers 200 when all succeed, 201 when some fail, 400 when all fail', async () => {
    const [a, b] = [fresh(), fresh()];
    const all = await link(server, [
      [{ mobile: a }, [goldstar]],
      [{ mobile: b }, [goldstar]],
    ]);
    expect(all.status).toBe(200);
    const some = await link(server, [
      [{ mobile: fresh() }, [goldstar]],
      [{ mobile: a }, [goldstar]],
    ]);
    expect(some.status).toBe(201);
    const none = await link(server, [
      [{ mobile: a }, [goldstar]],
      [{ mobile: '9' }, [goldstar]],
    ]);
    expect(none.status).toBe(400);
  });

  it('processes duplicates inside one batch as sequential calls', async () => {
    const mobile = fresh();
    const response = await link(server, [
      [{ mobile }, [goldstar, goldstar]],
      [{ mobile }, [goldstar, { partnerProgramName: 'SPP_2', customerPartnerReference: { partnerMembershipId: 'z' } }]],
      [{ mobile }, [{ partnerProgramName: 'SPP_2', customerPartnerReference: { membershipStartDate: '2026-08-01' } }]],
    ]);
    expect(response.status).toBe(201);
    expect([
      entryCode(response.body, 0, 0),
      entryCode(response.body, 0, 1),
      entryCode(response.body, 1, 0),
      entryCode(response.body, 1, 1),
      entryCode(response.body, 2, 0),
    ]).toEqual([200, 2005, 2005, 200, 200]);
    const rows = await server.database.db
      .selectFrom('memberships')
      .innerJoin('customers', (j) =>
        j.onRef('customers.org_id', '=', 'memberships.org_id').onRef('customers.id', '=', 'memberships.customer_id'),
      )
      .select(['memberships.pending_relink_start_at'])
      .where('customers.mobile', '=', mobile)
      .execute();
    expect(rows).toHaveLength(2);
  });

  it('lets malformed entries fail alone', async () => {
    const mobile = fresh();
    const response = await server.request('POST', LINK, {
      body: {
        linkCustomers: [
          null,
          { customer: 'nope', linkToPartnerPrograms: [goldstar] },
          {
            customer: { mobile },
            linkToPartnerPrograms: [
              null,
              7,
              { partnerProgramName: ['x'] },
              { partnerProgramName: 'Coalition', customerPartnerReference: 'x' },
              { partnerProgramName: 'Coalition', customerPartnerReference: { partnerMembershipId: { a: 1 } } },
              goldstar,
            ],
          },
          { customer: { mobile: fresh() } },
          { customer: { mobile: fresh() }, linkToPartnerPrograms: 'Goldstar' },
        ],
      },
    });
    expect(response.status).toBe(201);
    const [nullItem, badCustomer, mixed, noList, listNotArray] = response.body.linkCustomers;
    expect(nullItem.customer.status.code).toBe(1015);
    expect(badCustomer.customer.status.code).toBe(1015);
    expect(badCustomer.linkToPartnerPrograms[0].partnerLinkStatus.code).toBe(1015);
    expect(
      mixed.linkToPartnerPrograms.map((p: { partnerLinkStatus: { code: number } }) => p.partnerLinkStatus.code),
    ).toEqual([2002, 2002, 2002, 2002, 2002, 200]);
    expect(noList.linkToPartnerPrograms[0].partnerLinkStatus).toEqual({
      status: false,
      code: 2002,
      message: 'Required field is empty or null: linkToPartnerPrograms',
    });
    expect(listNotArray.linkToPartnerPrograms[0].partnerLinkStatus.code).toBe(2002);
  });

  it('never fails on hostile strings', async () => {
    const response = await link(server, [
      [{ mobile: 'a\u0000b' }, [goldstar]],
      [
        { mobile: fresh() },
        [{ partnerProgramName: 'Gold\u0000star', customerPartnerReference: { partnerMembershipId: 'm' } }],
      ],
      [
        { mobile: fresh() },
        [{ partnerProgramName: 'Goldstar', customerPartnerReference: { partnerMembershipId: 'x\u0000y' } }],
      ],
      [
        { mobile: fresh() },
        [
          {
            partnerProgramName: "Goldstar'; drop table memberships; --",
            customerPartnerReference: { partnerMembershipId: 'm' },
          },
        ],
      ],
      [
        { mobile: fresh() },
        [{ partnerProgramName: 'Goldstar', customerPartnerReference: { partnerMembershipId: 'm'.repeat(256) } }],
      ],
      [
        { mobile: fresh() },
        [
          {
            partnerProgramName: 'Goldstar',
            customerPartnerReference: { partnerMembershipId: 'm', partnerTierExpiryDate: '9999-12-31T23:59:59Z' },
          },
        ],
      ],
      [
        { mobile: fresh() },
        [
          {
            partnerProgramName: 'Goldstar',
            customerPartnerReference: { partnerMembershipId: 'm', partnerTierExpiryDate: '0000-01-01' },
          },
        ],
      ],
    ]);
    expect(response.status).toBe(201);
    expect(response.body.linkCustomers.map((_: unknown, i: number) => entryCode(response.body, i))).toEqual([
      1011, 2006, 2002, 2006, 2002, 200, 2003,
    ]);
  });

  it('returns the request id, keeping a well-formed one the client sent', async () => {
    const response = await link(server, [[{ mobile: fresh() }, [goldstar]]], { 'x-request-id': 'client-req-42' });
    expect(response.headers.get('x-request-id')).toBe('client-req-42');
    const generated = await server.request('GET', '/health');
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('accepts the Basic header built as base64(username:md5hex(password))', async () => {
    const response = await server.request('POST', LINK, {
      body: { linkCustomers: [{ customer: { mobile: fresh() }, linkToPartnerPrograms: [goldstar] }] },
      headers: { authorization: basicHeader(...TILL) },
    });
    expect(response.status).toBe(200);
  });
});
