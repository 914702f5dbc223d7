import { decodeJwt, decodeProtectedHeader, exportPKCS8, generateKeyPair, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { loadSigningKey, signingKeyFromPem } from '../../src/domain/signing-key.js';
import { createTestDatabase } from '../support/database.js';
import {
  ALPHA,
  ALPHA_CLIENT,
  ALPHA_ONLY,
  ALPHA_SHORT_CLIENT,
  ALPHA_TILL,
  generateToken,
  securityDeclarations,
  tokenOf,
  withToken,
} from '../support/security.js';
import { startSecondServer, startTestServer, type TestServer } from '../support/server.js';

// SPEC §10 OAuth: POST /v3/oauth/token/generate and the tokens it issues.
const NOW = '2026-06-15T06:30:00Z';
const nowSeconds = Date.parse(NOW) / 1000;
const TOKEN_URL = '/v3/oauth/token/generate';
const lookupPath = `/v2/customers/lookup/partnerPrograms?identifierName=mobile&identifierValue=${ALPHA_ONLY.mobile}`;
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ declarations: securityDeclarations(), now: NOW });
});
afterAll(() => server.close());

describe('token generation', () => {
  it('answers {data:{accessToken, ttlSeconds}, errors:[]} with an RS256 JWT of Capillary’s shape', async () => {
    const response = await generateToken(server, ALPHA_CLIENT);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.body).toEqual({ data: { accessToken: expect.any(String), ttlSeconds: 3600 }, errors: [] });
    const token = response.body.data.accessToken;
    const stored = await server.database.db.selectFrom('signing_keys').select('kid').executeTakeFirstOrThrow();
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'RS256', kid: stored.kid, typ: 'JWT' });
    expect(decodeJwt(token)).toEqual({
      iss: 'partner-programs',
      sub: ALPHA_CLIENT.key,
      client_id: ALPHA_CLIENT.key,
      org_id: ALPHA,
      token_use: 'access',
      iat: nowSeconds,
      exp: nowSeconds + 3600,
    });
  });

  it("gives the client's own TTL", async () => {
    const response = await generateToken(server, ALPHA_SHORT_CLIENT);
    expect(response.body.data.ttlSeconds).toBe(300);
    const claims = decodeJwt(response.body.data.accessToken);
    expect(claims.exp! - claims.iat!).toBe(300);
  });

  it('answers a wrong secret and an unknown key alike: 401, data null, no hint of which', async () => {
    const wrongSecret = await generateToken(server, { key: ALPHA_CLIENT.key, secret: 'not-the-secret-at-all' });
    const unknownKey = await generateToken(server, { key: 'no-such-client', secret: ALPHA_CLIENT.secret });
    for (const response of [wrongSecret, unknownKey]) {
      expect(response.status).toBe(401);
      expect(response.body).toEqual({
        data: null,
        errors: [{ status: false, code: 401, message: 'Authentication failed: unknown key or wrong secret' }],
        warnings: [],
      });
    }
  });

  it.each([
    ['no key', { secret: 'x' }, 400],
    ['an empty secret', { key: ALPHA_CLIENT.key, secret: '' }, 400],
    ['a numeric key', { key: 7, secret: 'x' }, 400],
    ['a JSON array', [1], 400],
  ])('refuses %s with 400 in the same shape', async (_name, body, status) => {
    const response = await server.request('POST', TOKEN_URL, { body, auth: null });
    expect(response.status).toBe(status);
    expect(response.body).toEqual({
      data: null,
      errors: [{ status: false, code: status, message: expect.any(String) }],
      warnings: [],
    });
  });

  it.each([
    ['malformed JSON', { rawBody: '{"key":', headers: { 'content-type': 'application/json' } }, 400],
    [
      'a form body',
      { rawBody: 'key=a&secret=b', headers: { 'content-type': 'application/x-www-form-urlencoded' } },
      415,
    ],
    ['no body and no content type', {}, 415],
  ])('answers %s in the same shape', async (_name, options, status) => {
    const response = await server.request('POST', TOKEN_URL, { ...options, auth: null });
    expect(response.status).toBe(status);
    expect(response.body).toEqual({
      data: null,
      errors: [{ status: false, code: status, message: expect.any(String) }],
      warnings: [],
    });
  });
});

describe('using a token', () => {
  it('is accepted in X-CAP-API-OAUTH-TOKEN and in Authorization: Bearer', async () => {
    const token = await tokenOf(server, ALPHA_CLIENT);
    const viaHeader = await server.request('GET', lookupPath, withToken(token));
    const viaBearer = await server.request('GET', lookupPath, {
      auth: null,
      headers: { authorization: `Bearer ${token}` },
    });
    expect(viaHeader.status).toBe(200);
    expect(viaHeader.body.customer.email).toBe(ALPHA_ONLY.email);
    expect(viaBearer.body).toEqual(viaHeader.body);
  });

  it('judges a request by its OAuth header even beside good Basic credentials', async () => {
    const response = await server.request('GET', lookupPath, {
      auth: ALPHA_TILL,
      headers: { 'x-cap-api-oauth-token': 'forged' },
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  it('works until its exp by the service clock, then answers 401 "expired"', async () => {
    const token = await tokenOf(server, ALPHA_SHORT_CLIENT);
    try {
      server.clock.advance({ seconds: 299 });
      expect((await server.request('GET', lookupPath, withToken(token))).status).toBe(200);
      server.clock.advance({ seconds: 1 });
      const expired = await server.request('GET', lookupPath, withToken(token));
      expect(expired.status).toBe(401);
      expect(expired.body.errors[0].message).toMatch(/expired/);
    } finally {
      server.clock.set(NOW);
    }
  });

  it('survives a restart and works on another instance of the same database', async () => {
    const token = await tokenOf(server, ALPHA_CLIENT);
    const second = await startSecondServer(server);
    try {
      const response = await second.request('GET', lookupPath, withToken(token));
      expect(response.status).toBe(200);
      const other = await tokenOf(second, ALPHA_CLIENT);
      expect((await server.request('GET', lookupPath, withToken(other))).status).toBe(200);
      expect(await server.database.db.selectFrom('signing_keys').selectAll().execute()).toHaveLength(1);
    } finally {
      await second.close();
    }
  });
});

describe('the signing key', () => {
  it('is generated once however many instances start together', async () => {
    const database = await createTestDatabase();
    try {
      const clock = new ManualClock(server.clock.now());
      const keys = await Promise.all(Array.from({ length: 4 }, () => loadSigningKey(database.db, undefined, clock)));
      expect(new Set(keys.map((key) => key.kid)).size).toBe(1);
      const stored = await database.db.selectFrom('signing_keys').selectAll().execute();
      expect(stored.map((row) => row.kid)).toEqual([keys[0]!.kid]);
    } finally {
      await database.drop();
    }
  });

  it('comes from OAUTH_SIGNING_KEY when set: tokens verify with its public key, and no other key is honoured', async () => {
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const pem = await exportPKCS8(privateKey);
    const configured = await signingKeyFromPem(pem);
    const databaseKeyToken = await tokenOf(server, ALPHA_CLIENT);
    const second = await startSecondServer(server, { oauthSigningKey: pem });
    try {
      const token = await tokenOf(second, ALPHA_CLIENT);
      expect(decodeProtectedHeader(token).kid).toBe(configured.kid);
      const { payload } = await jwtVerify(token, configured.publicKey, { currentDate: new Date(NOW) });
      expect(payload.org_id).toBe(ALPHA);
      expect((await second.request('GET', lookupPath, withToken(token))).status).toBe(200);
      expect((await second.request('GET', lookupPath, withToken(databaseKeyToken))).status).toBe(401);
      expect((await server.request('GET', lookupPath, withToken(token))).status).toBe(401);
    } finally {
      await second.close();
    }
  });
});

describe('documentation', () => {
  it('documents the token endpoint and both token headers in the OpenAPI document', async () => {
    const { body } = await server.request('GET', '/openapi.json');
    expect(body.paths['/v3/oauth/token/generate'].post).toBeDefined();
    expect(body.components.securitySchemes.oauthToken).toMatchObject({
      type: 'apiKey',
      in: 'header',
      name: 'X-CAP-API-OAUTH-TOKEN',
    });
    expect(body.paths['/v2/partnerProgram/linkCustomer'].post.security).toEqual([
      { basicAuth: [] },
      { oauthToken: [] },
      { bearerToken: [] },
    ]);
  });
});
