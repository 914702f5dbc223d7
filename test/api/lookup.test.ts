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

describe('GET /v2/customers/lookup', () => {
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
        `/v2/customers/lookup?identifierName=${name}&identifierValue=${encodeURIComponent(value)}`,
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
      '/v2/customers/lookup?identifierName=email&identifierValue=c00001%40example.com',
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
    const response = await server.request('GET', `/v2/customers/lookup?${query}`);
    expect(response.status).toBe(400);
    expect(response.body.errors[0]).toMatchObject({ status: false, code: 400 });
  });

  it('needs the DEFAULT access group and credentials', async () => {
    expect(
      (
        await server.request('GET', `/v2/customers/lookup?identifierName=mobile&identifierValue=1`, {
          auth: HISTORY_ONLY_TILL,
        })
      ).status,
    ).toBe(403);
    expect(
      (await server.request('GET', `/v2/customers/lookup?identifierName=mobile&identifierValue=1`, { auth: null }))
        .status,
    ).toBe(401);
  });
});
