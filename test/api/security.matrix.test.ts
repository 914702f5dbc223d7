import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ALPHA,
  ALPHA_CLIENT,
  ALPHA_DEFAULT_CLIENT,
  ALPHA_DEFAULT_TILL,
  ALPHA_HISTORY_CLIENT,
  ALPHA_HISTORY_TILL,
  ALPHA_ONLY,
  ALPHA_TILL,
  BETA,
  BETA_TILL,
  claims,
  forgedTokens,
  securityDeclarations,
  serviceSigningKey,
  signWith,
  tokenOf,
  withToken,
} from '../support/security.js';
import { startTestServer, type RequestOptions, type TestResponse, type TestServer } from '../support/server.js';

// SPEC §10: every v2 endpoint × every way in (or not) → the status it must answer.
const NOW = '2026-06-15T06:30:00Z';
const nowSeconds = Date.parse(NOW) / 1000;
let server: TestServer;

interface Endpoint {
  name: string;
  needs: 'DEFAULT' | 'PARTNER_PROGRAM';
  send(options: RequestOptions): Promise<TestResponse>;
  /** The customer status code the answer carries (batch entries, or the error of a read). */
  customerCode(response: TestResponse): number;
  /** The code that says "no such customer" (1011, or 8015 for Capillary's fetch customer id). */
  notFoundCode?: number;
}

const customer = { mobile: ALPHA_ONLY.mobile };
const batchCode = (field: string) => (response: TestResponse) => response.body[field][0].customer.status.code;
const readCode = (response: TestResponse) => (response.status === 200 ? 1000 : response.body.errors[0].code);
const query = `identifierName=mobile&identifierValue=${ALPHA_ONLY.mobile}`;

const endpoints: Endpoint[] = [
  {
    name: 'link',
    needs: 'DEFAULT',
    send: (options) =>
      server.request('POST', '/v2/partnerProgram/linkCustomer', {
        ...options,
        body: {
          linkCustomers: [
            {
              customer,
              linkToPartnerPrograms: [
                { partnerProgramName: 'AlphaOnly', customerPartnerReference: { partnerMembershipId: 'M-1' } },
              ],
            },
          ],
        },
      }),
    customerCode: batchCode('linkCustomers'),
  },
  {
    name: 'update',
    needs: 'DEFAULT',
    send: (options) =>
      server.request('POST', '/v2/partnerProgram/customerPartnerProgramUpdate', {
        ...options,
        body: {
          customersPartnerUpdates: [
            {
              customer,
              partnerProgramUpdates: [
                { partnerProgramName: 'Club', updateType: 'UPDATE', updateDetails: { updatedTierName: 'Gold' } },
              ],
            },
          ],
        },
      }),
    customerCode: batchCode('customersPartnerUpdates'),
  },
  {
    name: 'delink',
    needs: 'DEFAULT',
    send: (options) =>
      server.request('POST', '/v2/partnerProgram/deLinkCustomer', {
        ...options,
        body: { deLinkCustomers: [{ customer, deLinkFromPartnerPrograms: [{ partnerProgramName: 'AlphaOnly' }] }] },
      }),
    customerCode: batchCode('deLinkCustomers'),
  },
  {
    name: 'history',
    needs: 'PARTNER_PROGRAM',
    send: (options) =>
      server.request(
        'GET',
        `/v2/partnerProgram/customerActivityHistories?${query}&activityType=LINKINGUPDATES&source=instore`,
        options,
      ),
    customerCode: readCode,
  },
  {
    name: 'fetch customer id',
    needs: 'DEFAULT',
    send: (options) => server.request('GET', `/v2/customers/lookup?source=ALL&${query}`, options),
    customerCode: readCode,
    notFoundCode: 8015,
  },
  {
    name: 'customer partner programs by identifier',
    needs: 'DEFAULT',
    send: (options) => server.request('GET', `/v2/customers/lookup/partnerPrograms?${query}`, options),
    customerCode: readCode,
  },
  {
    name: 'customer partner programs by id',
    needs: 'DEFAULT',
    send: (options) => server.request('GET', `/v2/customers/${alphaOnlyId}/partnerPrograms`, options),
    customerCode: readCode,
  },
];

let tokens: Record<string, string>;
let alphaOnlyId: number;
let forged: Record<string, string>;

beforeAll(async () => {
  server = await startTestServer({ declarations: securityDeclarations(), now: NOW });
  const { key } = await serviceSigningKey(server);
  tokens = {
    all: await tokenOf(server, ALPHA_CLIENT),
    historyOnly: await tokenOf(server, ALPHA_HISTORY_CLIENT),
    defaultOnly: await tokenOf(server, ALPHA_DEFAULT_CLIENT),
    expired: await signWith(key, claims(ALPHA_CLIENT.key, ALPHA, nowSeconds - 7200, { exp: nowSeconds - 3600 })),
    wrongOrg: await signWith(key, claims(ALPHA_CLIENT.key, BETA, nowSeconds)),
    wrongIssuer: await signWith(key, claims(ALPHA_CLIENT.key, ALPHA, nowSeconds, { iss: 'Capillary' })),
    minted: await signWith(key, claims(ALPHA_CLIENT.key, ALPHA, nowSeconds)),
  };
  forged = await forgedTokens(server, claims(ALPHA_CLIENT.key, ALPHA, nowSeconds));
  const found = await server.request('GET', `/v2/customers/lookup?${query}`, { auth: ALPHA_TILL });
  alphaOnlyId = found.body.entity;
});
afterAll(() => server.close());

/** Everything a request could have changed for org 700: its memberships and their history. */
async function alphaState(): Promise<string> {
  const db = server.database.db;
  const memberships = await db
    .selectFrom('memberships')
    .selectAll()
    .where('org_id', '=', ALPHA)
    .orderBy('id')
    .execute();
  const activities = await db
    .selectFrom('membership_activities')
    .select('id')
    .where('org_id', '=', ALPHA)
    .orderBy('id')
    .execute();
  return JSON.stringify({ memberships, activities });
}

function expectEnvelope(response: TestResponse, code: number) {
  expect(response.status).toBe(code);
  expect(response.body).toEqual({ errors: [{ status: false, code, message: expect.any(String) }], warnings: [] });
}

describe.each(endpoints)('$name', (endpoint) => {
  const refused: Array<[string, () => RequestOptions, number]> = [
    ['no credentials', () => ({ auth: null }), 401],
    ['a wrong till password', () => ({ auth: [ALPHA_TILL[0], 'wrong'] }), 401],
    ['an unknown till', () => ({ auth: ['ghost.till', 'whatever'] }), 401],
    ['an expired token', () => withToken(tokens.expired!), 401],
    ['a token naming an org its client is not in', () => withToken(tokens.wrongOrg!), 401],
    ['a token of another issuer', () => withToken(tokens.wrongIssuer!), 401],
    ...[
      'signed with another key under the same kid',
      'alg none',
      'HS256 with the public key as secret',
      'a genuine signature over other claims',
      'garbage',
      'the public key PEM itself',
    ].map((name): [string, () => RequestOptions, number] => [
      `a forged token: ${name}`,
      () => withToken(forged[name]!),
      401,
    ]),
    [
      'a bearer token that is forged',
      () => ({ auth: null, headers: { authorization: `Bearer ${forged['alg none']}` } }),
      401,
    ],
    [
      'a till without the access group',
      () => ({ auth: endpoint.needs === 'DEFAULT' ? ALPHA_HISTORY_TILL : ALPHA_DEFAULT_TILL }),
      403,
    ],
    [
      'an OAuth client without the access group',
      () => withToken(endpoint.needs === 'DEFAULT' ? tokens.historyOnly! : tokens.defaultOnly!),
      403,
    ],
  ];

  it.each(refused)('%s → %i with the envelope, nothing changed', async (_name, options, status) => {
    const before = await alphaState();
    const response = await endpoint.send(options());
    expectEnvelope(response, status);
    expect(await alphaState()).toBe(before);
  });

  it("another org's till sees that org only: the customer is unknown there", async () => {
    const before = await alphaState();
    const response = await endpoint.send({ auth: BETA_TILL });
    expect(endpoint.customerCode(response)).toBe(endpoint.notFoundCode ?? 1011);
    expect(response.text).not.toContain(ALPHA_ONLY.email);
    expect(await alphaState()).toBe(before);
  });

  it.each([
    ['its own till', () => ({ auth: ALPHA_TILL })],
    ['its own OAuth token', () => withToken(tokens.all!)],
    ['a token minted with the service key, as the service would', () => withToken(tokens.minted!)],
  ])('%s is let in and sees the customer', async (_name, options) => {
    const response = await endpoint.send(options());
    expect([200, 201, 400]).toContain(response.status);
    expect(endpoint.customerCode(response)).toBe(1000);
  });
});
