import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ALPHA,
  ALPHA_ONLY,
  ALPHA_TILL,
  BETA,
  BETA_CLIENT,
  BETA_TILL,
  securityDeclarations,
  SHARED,
  tokenOf,
  withToken,
} from '../support/security.js';
import { startTestServer, type RequestOptions, type TestResponse, type TestServer } from '../support/server.js';

// SPEC §10 tenancy: two orgs with the same customers and program names; each sees and changes
// only its own, and no answer tells whether something exists in the other.
const NOW = '2026-06-15T06:30:00Z';
let server: TestServer;
const programIds: Record<number, Record<string, number>> = {};

beforeAll(async () => {
  server = await startTestServer({ declarations: securityDeclarations(), now: NOW });
  for (const org of [ALPHA, BETA]) {
    const { body } = await server.request('GET', `/admin/v1/orgs/${org}/partnerPrograms`, { admin: true });
    programIds[org] = Object.fromEntries(body.partnerPrograms.map((p: { name: string; id: number }) => [p.name, p.id]));
  }
});
afterAll(() => server.close());

type Auth = [string, string];
const post = (path: string, body: unknown, auth: Auth | RequestOptions) =>
  server.request('POST', path, Array.isArray(auth) ? { body, auth } : { ...auth, body });
const link = (auth: Auth | RequestOptions, customer: object, program: string, reference: object = {}) =>
  post(
    '/v2/partnerProgram/linkCustomer',
    {
      linkCustomers: [
        {
          customer,
          linkToPartnerPrograms: [
            { partnerProgramName: program, customerPartnerReference: { partnerMembershipId: 'M', ...reference } },
          ],
        },
      ],
    },
    auth,
  );
const update = (auth: Auth, customer: object, program: string, tier: string) =>
  post(
    '/v2/partnerProgram/customerPartnerProgramUpdate',
    {
      customersPartnerUpdates: [
        {
          customer,
          partnerProgramUpdates: [
            { partnerProgramName: program, updateType: 'UPDATE', updateDetails: { updatedTierName: tier } },
          ],
        },
      ],
    },
    auth,
  );
const delink = (auth: Auth, customer: object, program: string) =>
  post(
    '/v2/partnerProgram/deLinkCustomer',
    { deLinkCustomers: [{ customer, deLinkFromPartnerPrograms: [{ partnerProgramName: program }] }] },
    auth,
  );
const lookup = (auth: Auth | RequestOptions, name: string, value: string | number) =>
  server.request(
    'GET',
    `/v2/customers/lookup/partnerPrograms?identifierName=${name}&identifierValue=${value}`,
    Array.isArray(auth) ? { auth } : auth,
  );
const history = (auth: Auth, name: string, value: string | number, extra = '') =>
  server.request(
    'GET',
    `/v2/partnerProgram/customerActivityHistories?identifierName=${name}&identifierValue=${value}&activityType=LINKINGUPDATES${extra}`,
    { auth },
  );
const entryStatus = (response: TestResponse, field: string, entries: string, status: string) =>
  response.body[field][0][entries][0][status];
const memberships = (response: TestResponse) =>
  response.body.linkedPartnerPrograms.map(
    (p: { partnerProgramId: number; partnerTierName: string | null; membershipState: string }) => [
      p.partnerProgramId,
      p.partnerTierName,
      p.membershipState,
    ],
  );

describe('the same customer and program names in two orgs', () => {
  it('each org links, updates, delinks and sees only its own', async () => {
    expect(
      entryStatus(
        await link(ALPHA_TILL, SHARED, 'Club', { partnerTierName: 'Platinum' }),
        'linkCustomers',
        'linkToPartnerPrograms',
        'partnerLinkStatus',
      ).code,
    ).toBe(200);
    expect(
      entryStatus(
        await link(BETA_TILL, SHARED, 'club', { partnerTierName: 'Bronze' }),
        'linkCustomers',
        'linkToPartnerPrograms',
        'partnerLinkStatus',
      ).code,
    ).toBe(200);

    const alpha = await lookup(ALPHA_TILL, 'email', SHARED.email);
    const beta = await lookup(BETA_TILL, 'email', SHARED.email);
    expect(alpha.body.customer.id).not.toBe(beta.body.customer.id);
    expect(alpha.body.customer.loyaltyProgramIds).toEqual([70]);
    expect(beta.body.customer.loyaltyProgramIds).toEqual([80]);
    expect(memberships(alpha)).toEqual([[programIds[ALPHA]!.Club, 'Platinum', 'LINKED']]);
    expect(memberships(beta)).toEqual([[programIds[BETA]!.Club, 'Bronze', 'LINKED']]);

    expect(
      entryStatus(
        await update(BETA_TILL, SHARED, 'Club', 'Gold'),
        'customersPartnerUpdates',
        'partnerProgramUpdates',
        'updateStatus',
      ).code,
    ).toBe(200);
    expect(memberships(await lookup(ALPHA_TILL, 'mobile', SHARED.mobile))).toEqual([
      [programIds[ALPHA]!.Club, 'Platinum', 'LINKED'],
    ]);

    expect(
      entryStatus(
        await delink(ALPHA_TILL, SHARED, 'Club'),
        'deLinkCustomers',
        'deLinkFromPartnerPrograms',
        'partnerDeLinkStatus',
      ).code,
    ).toBe(200);
    expect(memberships(await lookup(BETA_TILL, 'mobile', SHARED.mobile))).toEqual([
      [programIds[BETA]!.Club, 'Gold', 'LINKED'],
    ]);
    expect(memberships(await lookup(ALPHA_TILL, 'mobile', SHARED.mobile))).toEqual([
      [programIds[ALPHA]!.Club, 'Platinum', 'DELINKED'],
    ]);

    const alphaHistory = await history(ALPHA_TILL, 'externalId', SHARED.externalId);
    const betaHistory = await history(BETA_TILL, 'externalId', SHARED.externalId);
    const activityTypes = (response: TestResponse) =>
      response.body.data.flatMap((d: { customerActivityHistory: Array<{ activityType: string }> }) =>
        d.customerActivityHistory.map((a) => a.activityType),
      );
    expect(activityTypes(alphaHistory)).toEqual(['DELINKING', 'ENROLLMENT']);
    expect(activityTypes(betaHistory)).toEqual(['UPDATE', 'ENROLLMENT']);
  });

  it("knows only its own program's tiers: another org's tier of a same-named program is unknown (2007)", async () => {
    const response = await link(ALPHA_TILL, { mobile: '919000100001' }, 'Club', { partnerTierName: 'Bronze' });
    expect(entryStatus(response, 'linkCustomers', 'linkToPartnerPrograms', 'partnerLinkStatus').code).toBe(2007);
  });

  it('an OAuth token of one org sees that org only', async () => {
    const token = await tokenOf(server, BETA_CLIENT);
    const response = await lookup(withToken(token), 'mobile', SHARED.mobile);
    expect(response.body.customer.loyaltyProgramIds).toEqual([80]);
    expect((await lookup(withToken(token), 'email', ALPHA_ONLY.email)).status).toBe(404);
  });
});

describe('answers never tell what exists in another org', () => {
  const nowhere = { mobile: '919999999999', email: 'nobody@example.com' };
  /** The answer with every occurrence of `from`'s identifiers written as `to`'s, to compare two answers. */
  const swapped = (response: TestResponse, from: Record<string, string>, to: Record<string, string>) => {
    let text = response.text;
    for (const [name, value] of Object.entries(from)) text = text.replaceAll(value, to[name]!);
    return { status: response.status, body: JSON.parse(text) };
  };
  const same = (
    inOther: TestResponse,
    absent: TestResponse,
    from: Record<string, string>,
    to: Record<string, string>,
  ) => expect(swapped(inOther, from, to)).toEqual({ status: absent.status, body: absent.body });

  it('a customer of the other org links, updates and delinks like no customer at all', async () => {
    same(await link(BETA_TILL, ALPHA_ONLY, 'Club'), await link(BETA_TILL, nowhere, 'Club'), ALPHA_ONLY, nowhere);
    same(
      await update(BETA_TILL, ALPHA_ONLY, 'Club', 'Gold'),
      await update(BETA_TILL, nowhere, 'Club', 'Gold'),
      ALPHA_ONLY,
      nowhere,
    );
    same(await delink(BETA_TILL, ALPHA_ONLY, 'Club'), await delink(BETA_TILL, nowhere, 'Club'), ALPHA_ONLY, nowhere);
  });

  it('a customer of the other org looks up and has history like no customer at all', async () => {
    same(
      await lookup(BETA_TILL, 'email', ALPHA_ONLY.email),
      await lookup(BETA_TILL, 'email', nowhere.email),
      ALPHA_ONLY,
      nowhere,
    );
    same(
      await history(BETA_TILL, 'mobile', ALPHA_ONLY.mobile),
      await history(BETA_TILL, 'mobile', nowhere.mobile),
      ALPHA_ONLY,
      nowhere,
    );
  });

  it("the other org's customer id is no customer, by lookup, history or link", async () => {
    const alphaId = String((await lookup(ALPHA_TILL, 'mobile', ALPHA_ONLY.mobile)).body.customer.id);
    const unused = '999999999';
    const ids = { id: alphaId };
    same(await lookup(BETA_TILL, 'id', alphaId), await lookup(BETA_TILL, 'id', unused), ids, { id: unused });
    same(await history(BETA_TILL, 'id', alphaId), await history(BETA_TILL, 'id', unused), ids, { id: unused });
    same(await link(BETA_TILL, { id: alphaId }, 'Club'), await link(BETA_TILL, { id: unused }, 'Club'), ids, {
      id: unused,
    });
  });

  it("identifiers mixing one's own customer and the other org's are refused like unknown ones", async () => {
    same(
      await link(BETA_TILL, { mobile: SHARED.mobile, email: ALPHA_ONLY.email }, 'Club'),
      await link(BETA_TILL, { mobile: SHARED.mobile, email: nowhere.email }, 'Club'),
      { email: ALPHA_ONLY.email },
      { email: nowhere.email },
    );
  });

  it('a program of the other org is no program (2006), by name or by id', async () => {
    const names = { program: 'AlphaOnly' };
    const absent = { program: 'NoSuchProgram' };
    same(await link(BETA_TILL, SHARED, 'AlphaOnly'), await link(BETA_TILL, SHARED, 'NoSuchProgram'), names, absent);
    same(await delink(BETA_TILL, SHARED, 'AlphaOnly'), await delink(BETA_TILL, SHARED, 'NoSuchProgram'), names, absent);
    // The history answer does not echo the id, so the two answers must be equal as they are.
    const byAlphaId = await history(
      BETA_TILL,
      'mobile',
      SHARED.mobile,
      `&partnerProgramId=${programIds[ALPHA]!.AlphaOnly}`,
    );
    const byUnusedId = await history(BETA_TILL, 'mobile', SHARED.mobile, '&partnerProgramId=999999');
    expect(byAlphaId.body.data).toEqual([]);
    expect({ status: byAlphaId.status, body: byAlphaId.body }).toEqual({
      status: byUnusedId.status,
      body: byUnusedId.body,
    });
  });
});
