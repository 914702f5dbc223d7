import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

// The customer view (SPEC §7a).
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ declarations: brandDeclarations(), now: NOW, defaultAuth: TILL });
});
afterAll(() => server.close());

describe('GET /v2/customers/lookup/partnerPrograms', () => {
  it('finds a customer by each identifier, with loyalty enrolments', async () => {
    const byMobile = await lookup(server, mobileOf(5));
    expect(byMobile.status).toBe(200);
    const { id } = byMobile.body.customer;
    expect(byMobile.body).toEqual({
      customer: {
        id,
        mobile: mobileOf(5),
        email: 'c00005@example.com',
        externalId: 'EXT00005',
        loyaltyProgramIds: [1],
      },
      linkedPartnerPrograms: [],
      warnings: [],
    });
    for (const [name, value] of [
      ['id', id],
      ['email', 'c00005@example.com'],
      ['externalId', 'EXT00005'],
    ]) {
      const response = await server.request(
        'GET',
        `/v2/customers/lookup/partnerPrograms?identifierName=${name}&identifierValue=${encodeURIComponent(value)}`,
      );
      expect(response.body.customer.id).toBe(id);
    }
  });

  it('shows every membership as it stands at the clock, pending relink included', async () => {
    const mobile = mobileOf(6);
    await link(server, [
      [
        { mobile },
        [
          { partnerProgramName: 'SPP_2', customerPartnerReference: { partnerMembershipId: 'P' } },
          {
            partnerProgramName: 'Goldstar',
            customerPartnerReference: { partnerMembershipId: 'G', partnerTierName: 'Platinum' },
          },
        ],
      ],
    ]);
    await link(server, [
      [{ mobile }, [{ partnerProgramName: 'SPP_2', customerPartnerReference: { membershipStartDate: '2026-08-01' } }]],
    ]);
    const view = (await lookup(server, mobile)).body.linkedPartnerPrograms;
    expect(view).toHaveLength(2);
    expect(view.find((p: { partnerProgramName: string }) => p.partnerProgramName === 'SPP_2')).toEqual({
      partnerProgramId: expect.any(Number),
      partnerProgramName: 'SPP_2',
      partnerProgramType: 'SUPPLEMENTARY',
      linked: true,
      membershipState: 'ACTIVE',
      partnerMembershipId: 'P',
      partnerTierNumber: null,
      partnerTierName: null,
      partnerTierExpiryDate: null,
      partnerProgramMembershipStartDate: '2026-06-15T12:00:00+05:30',
      partnerProgramMembershipEndDate: '2026-07-15T12:00:00+05:30',
      pendingRelinkStartDate: '2026-08-01T00:00:00+05:30',
    });

    server.clock.set('2026-07-20T00:00:00Z');
    try {
      const gap = (await lookup(server, mobile)).body.linkedPartnerPrograms.find(
        (p: { partnerProgramName: string }) => p.partnerProgramName === 'SPP_2',
      );
      expect(gap).toMatchObject({
        membershipState: 'EXPIRED',
        linked: false,
        pendingRelinkStartDate: '2026-08-01T00:00:00+05:30',
      });
      server.clock.set('2026-08-02T00:00:00Z');
      const relinked = (await lookup(server, mobile)).body.linkedPartnerPrograms.find(
        (p: { partnerProgramName: string }) => p.partnerProgramName === 'SPP_2',
      );
      expect(relinked).toMatchObject({
        membershipState: 'ACTIVE',
        linked: true,
        partnerMembershipId: 'P',
        partnerProgramMembershipStartDate: '2026-08-01T00:00:00+05:30',
        partnerProgramMembershipEndDate: '2026-08-31T00:00:00+05:30',
        pendingRelinkStartDate: null,
      });
    } finally {
      server.clock.set(NOW);
    }
  });

  it('answers 404 with 1011 for an unknown customer, and for a customer of another org', async () => {
    const unknown = await lookup(server, '910000000000');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({
      errors: [{ status: false, code: 1011, message: 'Cannot find customer for provided identifier' }],
      warnings: [],
    });
    const otherOrg = await server.request(
      'GET',
      '/v2/customers/lookup/partnerPrograms?identifierName=email&identifierValue=c00001%40example.com',
      { auth: OTHER_ORG_TILL },
    );
    expect(otherOrg.status).toBe(404);
  });

  it.each([
    ['identifierName=phone&identifierValue=1'],
    ['identifierName=mobile'],
    ['identifierValue=1'],
    ['identifierName=id&identifierValue=abc'],
    ['identifierName=id&identifierValue=0'],
  ])('rejects a bad query %s with 400', async (query) => {
    const response = await server.request('GET', `/v2/customers/lookup/partnerPrograms?${query}`);
    expect(response.status).toBe(400);
    expect(response.body.errors[0]).toMatchObject({ status: false, code: 400 });
  });

  it('needs the DEFAULT access group and credentials', async () => {
    expect(
      (
        await server.request('GET', `/v2/customers/lookup/partnerPrograms?identifierName=mobile&identifierValue=1`, {
          auth: HISTORY_ONLY_TILL,
        })
      ).status,
    ).toBe(403);
    expect(
      (
        await server.request('GET', `/v2/customers/lookup/partnerPrograms?identifierName=mobile&identifierValue=1`, {
          auth: null,
        })
      ).status,
    ).toBe(401);
  });
});

describe('GET /v2/customers/{id}/partnerPrograms', () => {
  it('answers the same view as the lookup by identifier', async () => {
    const byMobile = await lookup(server, mobileOf(6));
    const byId = await server.request('GET', `/v2/customers/${byMobile.body.customer.id}/partnerPrograms`);
    expect(byId.status).toBe(200);
    expect(byId.body).toEqual(byMobile.body);
  });

  it('answers 404 with 1011 for an unknown id or a customer of another org, 400 for an id that is not one', async () => {
    const { id } = (await lookup(server, mobileOf(5))).body.customer;
    for (const [path, auth] of [
      ['/v2/customers/999999999/partnerPrograms', TILL],
      [`/v2/customers/${id}/partnerPrograms`, OTHER_ORG_TILL],
    ] as const) {
      const response = await server.request('GET', path, { auth: [...auth] });
      expect(response.status).toBe(404);
      expect(response.body.errors[0]).toEqual({
        status: false,
        code: 1011,
        message: 'Cannot find customer for provided identifier',
      });
    }
    for (const bad of ['abc', '0', '-1', '1.5']) {
      const response = await server.request('GET', `/v2/customers/${bad}/partnerPrograms`);
      expect(response.status).toBe(400);
      expect(response.body.errors[0]).toMatchObject({ status: false, code: 400 });
    }
  });
});

// Capillary's "fetch customer id", as real clients call it to learn whether a customer exists.
describe('GET /v2/customers/lookup', () => {
  it('answers the customer id as entity, by each identifier, whatever source and accountId say', async () => {
    const { id } = (await lookup(server, mobileOf(5))).body.customer;
    for (const query of [
      `source=ALL&identifierName=mobile&identifierValue=${mobileOf(5)}`,
      `source=INSTORE&identifierName=email&identifierValue=c00005%40example.com`,
      `identifierName=externalId&identifierValue=EXT00005&accountId=anything`,
      `identifierName=id&identifierValue=${id}`,
    ]) {
      const response = await server.request('GET', `/v2/customers/lookup?${query}`);
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ entity: id, warnings: [] });
    }
  });

  it('answers 404 with 8015 for an unknown customer and for a customer of another org', async () => {
    for (const [query, auth] of [
      ['source=ALL&identifierName=email&identifierValue=nobody%40example.com', TILL],
      ['source=ALL&identifierName=email&identifierValue=c00005%40example.com', OTHER_ORG_TILL],
    ] as const) {
      const response = await server.request('GET', `/v2/customers/lookup?${query}`, { auth: [...auth] });
      expect(response.status).toBe(404);
      expect(response.body).toEqual({
        errors: [{ status: false, code: 8015, message: 'Customer not found for given identifiers' }],
        warnings: [],
      });
    }
  });

  it.each([
    ['identifierName=phone&identifierValue=1'],
    ['identifierName=mobile'],
    ['identifierName=id&identifierValue=abc'],
  ])('rejects a bad query %s with 400', async (query) => {
    const response = await server.request('GET', `/v2/customers/lookup?source=ALL&${query}`);
    expect(response.status).toBe(400);
    expect(response.body.errors[0]).toMatchObject({ status: false, code: 400 });
  });

  it('needs the DEFAULT access group', async () => {
    const query = `/v2/customers/lookup?source=ALL&identifierName=mobile&identifierValue=${mobileOf(5)}`;
    expect((await server.request('GET', query, { auth: HISTORY_ONLY_TILL })).status).toBe(403);
    expect((await server.request('GET', query, { auth: null })).status).toBe(401);
  });
});
