import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyDeclarations } from '../../src/domain/configuration/apply.js';
import { verifySecret } from '../../src/domain/credentials.js';
import { checkDeclarations, DeclarationError } from '../../src/domain/configuration/declarations.js';
import {
  ALPHA,
  ALPHA_CLIENT,
  ALPHA_ONLY,
  BETA,
  generateToken,
  securityDeclarations,
  SHARED,
  tokenOf,
  withToken,
} from '../support/security.js';
import { startTestServer, type TestResponse, type TestServer } from '../support/server.js';

// OAuth clients, configured like tills (config file and admin API), and how changes reach their tokens.
const NOW = '2026-06-15T06:30:00Z';
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ declarations: securityDeclarations(), now: NOW });
});
afterAll(() => server.close());

const admin = (method: string, path: string, body?: unknown) =>
  server.request(method, `/admin/v1${path}`, { admin: true, body });
const messages = (response: TestResponse): string[] => response.body.errors.map((e: { message: string }) => e.message);
const hashOf = async (key: string) =>
  (
    await server.database.db
      .selectFrom('oauth_clients')
      .select('secret_hash')
      .where('client_key', '=', key)
      .executeTakeFirstOrThrow()
  ).secret_hash;
const lookup = (token: string, mobile = ALPHA_ONLY.mobile) =>
  server.request(
    'GET',
    `/v2/customers/lookup/partnerPrograms?identifierName=mobile&identifierValue=${mobile}`,
    withToken(token),
  );

describe('admin API', () => {
  it('creates, reads and updates a client, never showing its secret and re-hashing only a changed one', async () => {
    const created = await admin('PUT', `/orgs/${ALPHA}/oauthClients/pos-1`, {
      secret: 'first-secret-0123456',
      accessGroups: ['DEFAULT'],
    });
    expect(created).toMatchObject({
      status: 200,
      body: { key: 'pos-1', accessGroups: ['DEFAULT'], tokenTtlSeconds: 3600 },
    });
    const first = await hashOf('pos-1');
    expect(first).toMatch(/^scrypt\$/);
    expect(await verifySecret('first-secret-0123456', first)).toBe(true);

    await admin('PUT', `/orgs/${ALPHA}/oauthClients/pos-1`, {
      secret: 'first-secret-0123456',
      accessGroups: ['DEFAULT', 'PARTNER_PROGRAM'],
      tokenTtlSeconds: 600,
    });
    expect(await hashOf('pos-1')).toBe(first);
    const kept = await admin('PUT', `/orgs/${ALPHA}/oauthClients/pos-1`, {
      secret: 'second-secret-012345',
      accessGroups: ['DEFAULT'],
    });
    expect(kept.body).toEqual({ key: 'pos-1', accessGroups: ['DEFAULT'], tokenTtlSeconds: 600 });
    expect(await hashOf('pos-1')).not.toBe(first);

    const one = await admin('GET', `/orgs/${ALPHA}/oauthClients/pos-1`);
    expect(one.body).toEqual({ key: 'pos-1', accessGroups: ['DEFAULT'], tokenTtlSeconds: 600 });
    const all = await admin('GET', `/orgs/${ALPHA}/oauthClients`);
    expect(all.body.oauthClients).toContainEqual({ key: 'pos-1', accessGroups: ['DEFAULT'], tokenTtlSeconds: 600 });
    const org = await admin('GET', `/orgs/${ALPHA}`);
    expect(org.body.oauthClients).toContainEqual({ key: 'pos-1', accessGroups: ['DEFAULT'], tokenTtlSeconds: 600 });
    for (const response of [created, kept, one, all, org]) expect(response.text).not.toMatch(/secret-|scrypt/);
  });

  it('refuses a key of another org (409), a TTL over 3600 and a short secret (400, naming the field), unknown orgs and clients (404)', async () => {
    const taken = await admin('PUT', `/orgs/${BETA}/oauthClients/${ALPHA_CLIENT.key}`, {
      secret: 'x'.repeat(20),
      accessGroups: [],
    });
    expect(taken.status).toBe(409);
    expect(messages(taken)).toEqual([`key: "${ALPHA_CLIENT.key}" is an OAuth client of another org`]);
    const long = await admin('PUT', `/orgs/${ALPHA}/oauthClients/pos-2`, {
      secret: 'x'.repeat(20),
      accessGroups: [],
      tokenTtlSeconds: 3601,
    });
    expect(long.status).toBe(400);
    expect(messages(long)).toEqual(['tokenTtlSeconds: must be <= 3600']);
    const short = await admin('PUT', `/orgs/${ALPHA}/oauthClients/pos-2`, { secret: 'short', accessGroups: [] });
    expect(messages(short)).toEqual(['secret: must not have fewer than 16 characters']);
    expect(
      (await admin('PUT', '/orgs/999/oauthClients/pos-2', { secret: 'x'.repeat(20), accessGroups: [] })).status,
    ).toBe(404);
    expect((await admin('GET', `/orgs/${BETA}/oauthClients/${ALPHA_CLIENT.key}`)).status).toBe(404);
    expect((await admin('DELETE', `/orgs/${BETA}/oauthClients/${ALPHA_CLIENT.key}`)).status).toBe(404);
  });
});

describe('tokens follow their client', () => {
  const secret = 'rotating-secret-000001';

  it('stop working when the client is deleted, and stay dead when its key reappears in another org', async () => {
    await admin('PUT', `/orgs/${ALPHA}/oauthClients/moving`, { secret, accessGroups: ['DEFAULT'] });
    const token = await tokenOf(server, { key: 'moving', secret });
    expect((await lookup(token)).status).toBe(200);

    expect((await admin('DELETE', `/orgs/${ALPHA}/oauthClients/moving`)).status).toBe(204);
    expect((await lookup(token)).status).toBe(401);
    expect((await generateToken(server, { key: 'moving', secret })).status).toBe(401);

    await admin('PUT', `/orgs/${BETA}/oauthClients/moving`, { secret, accessGroups: ['DEFAULT'] });
    expect((await lookup(token)).status).toBe(401);
    const betaToken = await tokenOf(server, { key: 'moving', secret });
    const betaView = await lookup(betaToken, SHARED.mobile);
    expect(betaView.status).toBe(200);
    expect(betaView.body.customer.loyaltyProgramIds).toEqual([80]);
  });

  it('stop working when the secret changes, not when the same secret is saved again', async () => {
    await admin('PUT', `/orgs/${ALPHA}/oauthClients/rotating`, { secret, accessGroups: ['DEFAULT'] });
    const token = await tokenOf(server, { key: 'rotating', secret });
    try {
      server.clock.advance({ seconds: 5 });
      await admin('PUT', `/orgs/${ALPHA}/oauthClients/rotating`, { secret, accessGroups: ['DEFAULT'] });
      expect((await lookup(token)).status).toBe(200);
      await admin('PUT', `/orgs/${ALPHA}/oauthClients/rotating`, {
        secret: `${secret}-new`,
        accessGroups: ['DEFAULT'],
      });
      expect((await lookup(token)).status).toBe(401);
      expect((await lookup(await tokenOf(server, { key: 'rotating', secret: `${secret}-new` }))).status).toBe(200);
    } finally {
      server.clock.set(NOW);
    }
  });

  it('survive the config file being applied again, as at every start', async () => {
    const token = await tokenOf(server, ALPHA_CLIENT);
    try {
      server.clock.advance({ seconds: 5 });
      await applyDeclarations(server.database.db, checkDeclarations(securityDeclarations()), {
        defaultTimezone: 'UTC',
        clock: server.clock,
      });
      expect((await lookup(token)).status).toBe(200);
    } finally {
      server.clock.set(NOW);
    }
  });

  it("carry the client's current access groups", async () => {
    await admin('PUT', `/orgs/${ALPHA}/oauthClients/regrouped`, { secret, accessGroups: ['DEFAULT'] });
    const token = await tokenOf(server, { key: 'regrouped', secret });
    expect((await lookup(token)).status).toBe(200);
    await admin('PUT', `/orgs/${ALPHA}/oauthClients/regrouped`, { secret, accessGroups: ['PARTNER_PROGRAM'] });
    expect((await lookup(token)).status).toBe(403);
  });
});

describe('config file', () => {
  const declare =
    (oauthClients: unknown[], second: unknown[] = []) =>
    () =>
      checkDeclarations({
        orgs: [
          { id: 1, name: 'A', oauthClients },
          { id: 2, name: 'B', oauthClients: second },
        ],
      });
  const client = { key: 'k', secret: 's'.repeat(16), accessGroups: ['DEFAULT'] };

  it.each([
    [
      'a TTL over 3600',
      [{ ...client, tokenTtlSeconds: 7200 }],
      [],
      'orgs[0].oauthClients[0].tokenTtlSeconds: must be <= 3600',
    ],
    ['a key declared in two orgs', [client], [client], 'orgs[1].oauthClients[0].key: "k" is declared twice'],
    [
      'an unknown access group',
      [{ ...client, accessGroups: ['ADMIN'] }],
      [],
      'orgs[0].oauthClients[0].accessGroups[0]',
    ],
    ['a key with a slash', [{ ...client, key: 'a/b' }], [], 'orgs[0].oauthClients[0].key: must match pattern'],
  ])('refuses %s, naming the field', (_name, first, second, problem) => {
    expect(declare(first, second)).toThrow(DeclarationError);
    expect(declare(first, second)).toThrow(problem);
  });

  it('accepts a client with the default TTL', () => {
    expect(declare([client])().orgs[0]!.oauthClients).toEqual([client]);
  });
});
