import { createPublicKey } from 'node:crypto';
import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import type { Declarations } from '../../src/domain/configuration/declarations.js';
import { signingKeyFromPem, type SigningKey } from '../../src/domain/signing-key.js';
import type { TestResponse, TestServer } from './server.js';

/**
 * Two orgs built to collide: the same customer identifiers, the same program names, each with
 * tills and OAuth clients of every access-group combination. Org 700 also has a customer and a
 * program the other lacks.
 */
export const ALPHA = 700;
export const BETA = 800;

export const ALPHA_TILL: [string, string] = ['alpha.till', 'alpha-secret'];
export const ALPHA_HISTORY_TILL: [string, string] = ['alpha.history', 'alpha-history-secret'];
export const ALPHA_DEFAULT_TILL: [string, string] = ['alpha.default', 'alpha-default-secret'];
export const BETA_TILL: [string, string] = ['beta.till', 'beta-secret'];

export const ALPHA_CLIENT = { key: 'alpha-client', secret: 'alpha-client-secret-0001' };
export const ALPHA_HISTORY_CLIENT = { key: 'alpha-history-client', secret: 'alpha-history-secret-0001' };
export const ALPHA_DEFAULT_CLIENT = { key: 'alpha-default-client', secret: 'alpha-default-secret-0001' };
export const ALPHA_SHORT_CLIENT = { key: 'alpha-short-client', secret: 'alpha-short-secret-00001' };
export const BETA_CLIENT = { key: 'beta-client', secret: 'beta-client-secret-00001' };

/** In both orgs. */
export const SHARED = { mobile: '919000000001', email: 'shared@example.com', externalId: 'SHARED-1' };
/** In org 700 only. */
export const ALPHA_ONLY = { mobile: '919000000002', email: 'alpha-only@example.com' };

export function securityDeclarations(): Declarations {
  const both = ['DEFAULT', 'PARTNER_PROGRAM'] as ('DEFAULT' | 'PARTNER_PROGRAM')[];
  return {
    orgs: [
      {
        id: ALPHA,
        name: 'Alpha',
        timezone: 'Asia/Kolkata',
        configs: { ALLOW_MEMBERSHIP_RELINKING: true },
        loyaltyPrograms: [
          {
            id: 70,
            name: 'Alpha main',
            partnerPrograms: [
              { name: 'Club', type: 'EXTERNAL', tiers: ['Silver', 'Gold', 'Platinum'] },
              { name: 'Plan', type: 'SUPPLEMENTARY', membershipCycle: { unit: 'MONTHS', value: 1 } },
              { name: 'AlphaOnly', type: 'EXTERNAL' },
            ],
          },
        ],
        tills: [
          { username: ALPHA_TILL[0], password: ALPHA_TILL[1], accessGroups: both },
          { username: ALPHA_HISTORY_TILL[0], password: ALPHA_HISTORY_TILL[1], accessGroups: ['PARTNER_PROGRAM'] },
          { username: ALPHA_DEFAULT_TILL[0], password: ALPHA_DEFAULT_TILL[1], accessGroups: ['DEFAULT'] },
        ],
        oauthClients: [
          { ...ALPHA_CLIENT, accessGroups: both },
          { ...ALPHA_HISTORY_CLIENT, accessGroups: ['PARTNER_PROGRAM'] },
          { ...ALPHA_DEFAULT_CLIENT, accessGroups: ['DEFAULT'] },
          { ...ALPHA_SHORT_CLIENT, accessGroups: both, tokenTtlSeconds: 300 },
        ],
        customers: [
          { ...SHARED, loyaltyPrograms: [70] },
          { ...ALPHA_ONLY, loyaltyPrograms: [70] },
          ...Array.from({ length: 40 }, (_, i) => ({ mobile: alphaMobile(i + 1), loyaltyPrograms: [70] })),
        ],
      },
      {
        id: BETA,
        name: 'Beta',
        timezone: 'UTC',
        loyaltyPrograms: [
          {
            id: 80,
            name: 'Beta main',
            partnerPrograms: [
              { name: 'Club', type: 'EXTERNAL', tiers: ['Bronze', 'Gold'] },
              { name: 'Plan', type: 'SUPPLEMENTARY', membershipCycle: { unit: 'DAYS', value: 10 } },
            ],
          },
        ],
        tills: [{ username: BETA_TILL[0], password: BETA_TILL[1], accessGroups: both }],
        oauthClients: [{ ...BETA_CLIENT, accessGroups: both }],
        customers: [{ ...SHARED, loyaltyPrograms: [80] }],
      },
    ],
  };
}

/** Alpha's numbered customers, for tests that need a fresh one each. */
export function alphaMobile(n: number): string {
  return `91900010${String(n).padStart(4, '0')}`;
}

export async function generateToken(
  server: TestServer,
  client: { key: string; secret: string },
): Promise<TestResponse> {
  return server.request('POST', '/v3/oauth/token/generate', { body: client, auth: null });
}

/** A token from the service itself, or a failed test. */
export async function tokenOf(server: TestServer, client: { key: string; secret: string }): Promise<string> {
  const response = await generateToken(server, client);
  if (response.status !== 200) throw new Error(`token generation failed: ${response.status} ${response.text}`);
  return response.body.data.accessToken as string;
}

export const withToken = (token: string) => ({ auth: null, headers: { 'x-cap-api-oauth-token': token } });

/** The key the service signs with, read from its database (tests only: to forge look-alikes). */
export async function serviceSigningKey(server: TestServer): Promise<{ key: SigningKey; publicPem: string }> {
  const row = await server.database.db.selectFrom('signing_keys').select('private_key_pem').executeTakeFirstOrThrow();
  const publicPem = createPublicKey(row.private_key_pem).export({ type: 'spki', format: 'pem' }).toString();
  return { key: await signingKeyFromPem(row.private_key_pem), publicPem };
}

export interface ClaimsOverride {
  iss?: string;
  sub?: string;
  client_id?: string;
  org_id?: number;
  token_use?: string;
  iat?: number;
  exp?: number;
}

/** Claims as the service writes them for `client` of `orgId`, at `nowSeconds`, with overrides. */
export function claims(client: string, orgId: number, nowSeconds: number, override: ClaimsOverride = {}) {
  return {
    iss: 'partner-programs',
    sub: client,
    client_id: client,
    org_id: orgId,
    token_use: 'access',
    iat: nowSeconds,
    exp: nowSeconds + 3600,
    ...override,
  };
}

export async function signWith(key: SigningKey, payload: Record<string, unknown>): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' }).sign(key.privateKey);
}

/** The forgeries every verifier must refuse. */
export async function forgedTokens(
  server: TestServer,
  payload: Record<string, unknown>,
): Promise<Record<string, string>> {
  const { key, publicPem } = await serviceSigningKey(server);
  const other = await generateKeyPair('RS256', { extractable: true });
  const otherKey = { kid: key.kid, privateKey: other.privateKey, publicKey: other.publicKey };
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const genuine = await signWith(key, payload);
  const [header, , signature] = genuine.split('.');
  return {
    'signed with another key under the same kid': await signWith(otherKey, payload),
    'alg none': `${b64({ alg: 'none', typ: 'JWT', kid: key.kid })}.${b64(payload)}.`,
    'HS256 with the public key as secret': await new SignJWT(payload)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: key.kid })
      .sign(new TextEncoder().encode(publicPem)),
    'a genuine signature over other claims': `${header}.${b64({ ...payload, org_id: 1 })}.${signature}`,
    garbage: 'not-a-jwt',
    'the public key PEM itself': Buffer.from(await exportSPKI(key.publicKey)).toString('base64url'),
  };
}
