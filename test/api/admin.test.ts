import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyDeclarations } from '../../src/domain/configuration/apply.js';
import { tillSecretOf, verifySecret } from '../../src/domain/credentials.js';
import {
  checkDeclarations,
  DeclarationError,
  readDeclarationsFile,
  type Declarations,
} from '../../src/domain/configuration/declarations.js';
import { startTestServer, TEST_ADMIN_TOKEN, type TestResponse, type TestServer } from '../support/server.js';

// The admin API (SPEC §2) and the config file applied through the same use cases.
const NOW = '2026-06-15T06:30:00Z';
const ORG = 500;
const OTHER_ORG = 600;

function declarations(): Declarations {
  return checkDeclarations({
    orgs: [
      {
        id: ORG,
        name: 'Admin Test',
        timezone: 'Asia/Kolkata',
        loyaltyPrograms: [
          {
            id: 50,
            name: 'Main',
            partnerPrograms: [
              { name: 'Tiered', type: 'EXTERNAL', tiers: ['Silver', 'Gold', 'Platinum'] },
              {
                name: 'Sub',
                type: 'SUPPLEMENTARY',
                membershipCycle: { unit: 'MONTHS', value: 1 },
                backupProgram: 'Spare',
              },
              { name: 'Spare', type: 'SUPPLEMENTARY', membershipCycle: { unit: 'DAYS', value: 30 } },
            ],
          },
        ],
        tills: [{ username: 'admin.till', password: 'secret-1', accessGroups: ['DEFAULT'] }],
        customers: [{ mobile: '910000000001', email: 'seed@example.com', loyaltyPrograms: [50] }],
      },
      { id: OTHER_ORG, name: 'Other', loyaltyPrograms: [{ id: 60, name: 'Theirs' }] },
    ],
  });
}

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ declarations: declarations(), now: NOW });
});
afterAll(() => server.close());

const admin = (method: string, path: string, body?: unknown) =>
  server.request(method, `/admin/v1${path}`, { admin: true, body });
const messages = (response: TestResponse): string[] => response.body.errors.map((e: { message: string }) => e.message);
const upsert = (customers: unknown[], org = ORG) => admin('POST', `/orgs/${org}/customers`, { customers });
const db = () => server.database.db;

describe('authentication', () => {
  it.each([
    ['no token', {}],
    ['a wrong token', { authorization: 'Bearer wrong' }],
    ['the token with one character more', { authorization: `Bearer ${TEST_ADMIN_TOKEN}x` }],
    ['till credentials', { authorization: 'Basic YWRtaW4udGlsbDp4' }],
  ])('answers 401 with the envelope for %s', async (_case, headers) => {
    const response = await server.request('GET', '/admin/v1/orgs', { headers });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(response.body).toEqual({
      errors: [{ status: false, code: 401, message: expect.any(String) }],
      warnings: [],
    });
  });

  it('checks the token before the body', async () => {
    const response = await server.request('POST', `/admin/v1/orgs/${ORG}/customers`, { body: { nonsense: true } });
    expect(response.status).toBe(401);
  });

  it('lets the admin token in', async () => {
    const response = await admin('GET', '/orgs');
    expect(response.status).toBe(200);
    expect(response.body.orgs.map((o: { id: number }) => o.id)).toEqual([ORG, OTHER_ORG]);
  });

  it('documents every admin route in the OpenAPI document', async () => {
    const { body } = await server.request('GET', '/openapi.json');
    const operation = body.paths['/admin/v1/orgs/{orgId}/customers'].post;
    expect(operation.tags).toEqual(['admin']);
    expect(operation.security).toEqual([{ adminToken: [] }]);
  });
});

describe('orgs', () => {
  it('creates, reads and updates an org; a left-out timezone keeps the stored one', async () => {
    const created = await admin('PUT', '/orgs/700', { name: 'New', timezone: 'Europe/London', configs: { A_FLAG: 1 } });
    expect(created.status).toBe(200);
    expect(created.body).toEqual({ id: 700, name: 'New', timezone: 'Europe/London', configs: { A_FLAG: 1 } });
    const updated = await admin('PUT', '/orgs/700', { name: 'Renamed', configs: { B_FLAG: true } });
    expect(updated.body).toEqual({
      id: 700,
      name: 'Renamed',
      timezone: 'Europe/London',
      configs: { A_FLAG: 1, B_FLAG: true },
    });
    expect((await admin('PUT', '/orgs/701', { name: 'Zoneless' })).body.timezone).toBe('UTC');
    expect(await admin('GET', '/orgs/700')).toMatchObject({
      status: 200,
      body: { id: 700, name: 'Renamed', loyaltyPrograms: [], tills: [], customerCount: 0 },
    });
  });

  it('shows an org whole: programs with their settings, tills without passwords, customer count', async () => {
    const response = await admin('GET', `/orgs/${ORG}`);
    expect(response.status).toBe(200);
    expect(response.text).not.toMatch(/password/i);
    expect(response.body).toMatchObject({
      id: ORG,
      timezone: 'Asia/Kolkata',
      configs: {},
      customerCount: expect.any(Number),
    });
    expect(response.body.tills).toEqual([{ username: 'admin.till', accessGroups: ['DEFAULT'] }]);
    const [main] = response.body.loyaltyPrograms;
    expect(main).toMatchObject({ id: 50, name: 'Main', oneSupplementaryProgramAtATime: false });
    expect(main.partnerPrograms.find((p: { name: string }) => p.name === 'Sub')).toEqual({
      id: expect.any(Number),
      loyaltyProgramId: 50,
      name: 'Sub',
      type: 'SUPPLEMENTARY',
      description: null,
      active: true,
      tiers: [],
      membershipCycle: { unit: 'MONTHS', value: 1 },
      expiryDate: null,
      backupProgram: 'Spare',
      expiryReminderDays: [],
    });
  });

  it('rejects bad values naming the field, and unknown orgs with 404', async () => {
    const zone = await admin('PUT', '/orgs/702', { name: 'X', timezone: 'Mars/Base' });
    expect(zone.status).toBe(400);
    expect(messages(zone)).toEqual(['timezone: "Mars/Base" is not an IANA time zone']);
    const shape = await admin('PUT', '/orgs/702', { name: 7 });
    expect(shape.status).toBe(400);
    expect(messages(shape)).toContain('name: must be string');
    expect(messages(await admin('GET', '/orgs/abc'))[0]).toMatch(/^orgId: /);
    expect((await admin('GET', '/orgs/702')).status).toBe(404);
    expect((await admin('GET', '/orgs/702/partnerPrograms')).status).toBe(404);
    expect((await admin('GET', '/orgs/702/tills')).status).toBe(404);
  });

  it('merges configs with PATCH; null removes a key', async () => {
    await admin('PUT', '/orgs/703', { name: 'Configs', configs: { KEEP: 'yes', DROP: 1 } });
    const patched = await admin('PATCH', '/orgs/703/configs', { ALLOW_MEMBERSHIP_RELINKING: true, DROP: null });
    expect(patched).toMatchObject({
      status: 200,
      body: { configs: { KEEP: 'yes', ALLOW_MEMBERSHIP_RELINKING: true } },
    });
    expect(patched.body.configs).not.toHaveProperty('DROP');
    expect((await admin('GET', '/orgs/703')).body.configs).toEqual({ KEEP: 'yes', ALLOW_MEMBERSHIP_RELINKING: true });
    expect((await admin('PATCH', '/orgs/703/configs', { lower_case: 1 })).status).toBe(400);
    expect((await admin('PATCH', '/orgs/704/configs', { FLAG: 1 })).status).toBe(404);
  });

  it('creates and updates loyalty programs; an id of another org is a conflict', async () => {
    const created = await admin('PUT', `/orgs/${ORG}/loyaltyPrograms/51`, {
      name: 'Second',
      oneSupplementaryProgramAtATime: true,
    });
    expect(created.body).toEqual({ id: 51, name: 'Second', oneSupplementaryProgramAtATime: true });
    const renamed = await admin('PUT', `/orgs/${ORG}/loyaltyPrograms/51`, { name: 'Second!' });
    expect(renamed.body).toEqual({ id: 51, name: 'Second!', oneSupplementaryProgramAtATime: true });
    const taken = await admin('PUT', `/orgs/${ORG}/loyaltyPrograms/60`, { name: 'Stolen' });
    expect(taken.status).toBe(409);
    expect(messages(taken)).toEqual(['loyaltyProgramId: loyalty program 60 belongs to another org']);
    expect((await admin('PUT', '/orgs/705/loyaltyPrograms/52', { name: 'Orphan' })).status).toBe(404);
  });
});

describe('partner programs', () => {
  const put = (name: string, body: object) =>
    admin('PUT', `/orgs/${ORG}/partnerPrograms/${encodeURIComponent(name)}`, body);

  it('creates a program, finds it again by name in any case, keeps left-out fields', async () => {
    const created = await put('Weekly', {
      loyaltyProgramId: 50,
      type: 'SUPPLEMENTARY',
      membershipCycle: { unit: 'DAYS', value: 7 },
      expiryDate: '2030-01-31T18:00:00',
      backupProgram: 'spare',
      expiryReminderDays: [3],
      description: 'A week at a time',
    });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({
      name: 'Weekly',
      expiryDate: '2030-01-31T18:00:00+05:30',
      backupProgram: 'Spare',
      expiryReminderDays: [3],
      active: true,
    });
    const updated = await put('WEEKLY', {
      loyaltyProgramId: 50,
      type: 'SUPPLEMENTARY',
      membershipCycle: { unit: 'DAYS', value: 14 },
      active: false,
    });
    expect(updated.body).toMatchObject({
      id: created.body.id,
      name: 'WEEKLY',
      membershipCycle: { unit: 'DAYS', value: 14 },
      active: false,
      expiryDate: '2030-01-31T18:00:00+05:30',
      backupProgram: 'Spare',
      description: 'A week at a time',
    });
    const cleared = await put('weekly', {
      name: 'Weekly',
      loyaltyProgramId: 50,
      type: 'SUPPLEMENTARY',
      membershipCycle: { unit: 'DAYS', value: 14 },
      expiryDate: null,
      backupProgram: null,
    });
    expect(cleared.body).toMatchObject({ id: created.body.id, name: 'Weekly', expiryDate: null, backupProgram: null });
    const listed = await admin('GET', `/orgs/${ORG}/partnerPrograms`);
    expect(listed.body.partnerPrograms.filter((p: { name: string }) => p.name.toLowerCase() === 'weekly')).toHaveLength(
      1,
    );
  });

  it.each<[string, string, object, string]>([
    ['a cycle missing', 'P1', { type: 'SUPPLEMENTARY' }, 'membershipCycle: required for a SUPPLEMENTARY program'],
    [
      'a cycle on EXTERNAL',
      'P1',
      { type: 'EXTERNAL', membershipCycle: { unit: 'DAYS', value: 1 } },
      'membershipCycle: only SUPPLEMENTARY programs have a cycle',
    ],
    ['a bad expiry date', 'P1', { type: 'EXTERNAL', expiryDate: 'tomorrow' }, 'expiryDate: not an ISO-8601 date'],
    [
      'an unknown backup',
      'P1',
      { type: 'SUPPLEMENTARY', membershipCycle: { unit: 'DAYS', value: 1 }, backupProgram: 'Nope' },
      'backupProgram: no program "Nope" in this org',
    ],
    [
      'an EXTERNAL backup',
      'P1',
      { type: 'SUPPLEMENTARY', membershipCycle: { unit: 'DAYS', value: 1 }, backupProgram: 'Tiered' },
      'backupProgram: "Tiered" is not a SUPPLEMENTARY program',
    ],
    [
      'a backup in another org',
      'P1',
      { type: 'SUPPLEMENTARY', membershipCycle: { unit: 'DAYS', value: 1 }, backupProgram: 'Theirs' },
      'backupProgram: no program "Theirs" in this org',
    ],
    [
      'duplicate tiers',
      'P1',
      { type: 'EXTERNAL', tiers: ['A', 'a'] },
      'tiers: tier names must be unique (case-insensitively)',
    ],
    [
      'another name in the body',
      'P1',
      { name: 'P2', type: 'EXTERNAL' },
      'name: "P2" is not the program "P1" of the path',
    ],
    [
      'a loyalty program of another org',
      'P1',
      { type: 'EXTERNAL', loyaltyProgramId: 60 },
      'loyaltyProgramId: no loyalty program 60 in this org',
    ],
    ['a wrong type', 'P1', { type: 'COALITION' }, 'type: must be one of EXTERNAL, SUPPLEMENTARY'],
  ])('rejects %s with 400 naming the field, creating nothing', async (_case, name, body, problem) => {
    const response = await put(name, { loyaltyProgramId: 50, ...body });
    expect(response.status).toBe(400);
    expect(messages(response)).toContain(problem);
    const listed = await admin('GET', `/orgs/${ORG}/partnerPrograms`);
    expect(listed.body.partnerPrograms.map((p: { name: string }) => p.name)).not.toContain(name);
  });

  it('refuses to change the type of a program (409)', async () => {
    const response = await put('tiered', {
      loyaltyProgramId: 50,
      type: 'SUPPLEMENTARY',
      membershipCycle: { unit: 'DAYS', value: 1 },
    });
    expect(response.status).toBe(409);
    expect(messages(response)).toEqual(['type: "tiered" is EXTERNAL; the type of a program cannot change']);
  });

  it('replaces tiers, but never removes or renames one a membership holds (409)', async () => {
    const program = (await put('Ladder', { loyaltyProgramId: 50, type: 'EXTERNAL', tiers: ['A', 'B', 'C', 'D'] })).body;
    const [customer] = (await upsert([{ mobile: '910000000900', loyaltyPrograms: [50] }])).body.customers;
    const at = new Date('2026-06-15T06:30:00Z');
    await db()
      .insertInto('memberships')
      .values({
        org_id: ORG,
        customer_id: customer.id,
        partner_program_id: program.id,
        program_type: 'EXTERNAL',
        partner_membership_id: 'M1',
        state: 'LINKED',
        tier_number: 3,
        created_at: at,
        updated_at: at,
      })
      .execute();
    const tiersOf = async () =>
      (await admin('GET', `/orgs/${ORG}/partnerPrograms`)).body.partnerPrograms.find(
        (p: { id: number }) => p.id === program.id,
      ).tiers;

    const removed = await put('Ladder', { loyaltyProgramId: 50, type: 'EXTERNAL', tiers: ['A', 'B'] });
    expect(removed.status).toBe(409);
    expect(messages(removed)).toEqual([
      'tiers: tier 3 "C" is held by memberships, so it can be neither removed nor renamed',
    ]);
    expect((await put('Ladder', { loyaltyProgramId: 50, type: 'EXTERNAL', tiers: ['A', 'B', 'X', 'D'] })).status).toBe(
      409,
    );
    expect((await put('Ladder', { loyaltyProgramId: 50, type: 'EXTERNAL', tiers: [] })).status).toBe(409);
    expect(await tiersOf()).toEqual(['A', 'B', 'C', 'D']);

    // Tiers nobody holds may swap places or go; the held one may change case.
    const swapped = await put('Ladder', { loyaltyProgramId: 50, type: 'EXTERNAL', tiers: ['B', 'A', 'c'] });
    expect(swapped.status).toBe(200);
    expect(swapped.body.tiers).toEqual(['B', 'A', 'c']);
    expect(await tiersOf()).toEqual(['B', 'A', 'c']);
  });
});

describe('tills', () => {
  const hashOf = async (username: string) =>
    (await db().selectFrom('tills').select('password_hash').where('username', '=', username).executeTakeFirstOrThrow())
      .password_hash;

  it('creates and updates a till, re-hashing only a changed password', async () => {
    const created = await admin('PUT', `/orgs/${ORG}/tills/shop.1`, { password: 'pw-1', accessGroups: ['DEFAULT'] });
    expect(created).toMatchObject({ status: 200, body: { username: 'shop.1', accessGroups: ['DEFAULT'] } });
    const first = await hashOf('shop.1');
    expect(await verifySecret(tillSecretOf('pw-1'), first)).toBe(true);

    await admin('PUT', `/orgs/${ORG}/tills/shop.1`, { password: 'pw-1', accessGroups: ['DEFAULT', 'PARTNER_PROGRAM'] });
    expect(await hashOf('shop.1')).toBe(first);
    await admin('PUT', `/orgs/${ORG}/tills/shop.1`, { password: 'pw-2', accessGroups: ['PARTNER_PROGRAM'] });
    const second = await hashOf('shop.1');
    expect(second).not.toBe(first);
    expect(await verifySecret(tillSecretOf('pw-2'), second)).toBe(true);

    const listed = await admin('GET', `/orgs/${ORG}/tills`);
    expect(listed.body.tills).toContainEqual({ username: 'shop.1', accessGroups: ['PARTNER_PROGRAM'] });
    expect(listed.text).not.toMatch(/pw-|scrypt|password/);
  });

  it('refuses a username held by another org (409) and bad bodies (400)', async () => {
    const taken = await admin('PUT', `/orgs/${OTHER_ORG}/tills/admin.till`, { password: 'x', accessGroups: [] });
    expect(taken.status).toBe(409);
    expect(messages(taken)).toEqual(['username: "admin.till" is a till of another org']);
    const bad = await admin('PUT', `/orgs/${ORG}/tills/shop.2`, { password: 'x', accessGroups: ['ADMIN'] });
    expect(bad.status).toBe(400);
    expect(messages(bad).some((m) => m.startsWith('accessGroups[0]: '))).toBe(true);
    expect((await admin('PUT', '/orgs/706/tills/shop.3', { password: 'x', accessGroups: [] })).status).toBe(404);
  });
});

describe('customers', () => {
  const countCustomers = async () =>
    Number(
      (
        await db()
          .selectFrom('customers')
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  it('creates customers in request order, absent identifiers as null, numbers as strings', async () => {
    const response = await upsert([
      { mobile: 911100000001, email: 'a@example.com', loyaltyPrograms: [50] },
      { externalId: 'B-1' },
      { email: 'c@example.com', externalId: 42 },
    ]);
    expect(response.status).toBe(200);
    const [a, b, c] = response.body.customers;
    expect(a).toEqual({ id: expect.any(Number), mobile: '911100000001', email: 'a@example.com', externalId: null });
    expect(b).toEqual({ id: expect.any(Number), mobile: null, email: null, externalId: 'B-1' });
    expect(c).toEqual({ id: expect.any(Number), mobile: null, email: 'c@example.com', externalId: '42' });
    expect(new Set([a.id, b.id, c.id]).size).toBe(3);
    const view = await admin('GET', `/orgs/${ORG}/customers/${a.id}`);
    expect(view.body).toEqual({ ...a, loyaltyProgramIds: [50], createdAt: '2026-06-15T12:00:00+05:30' });
  });

  it('updates a customer found by each identifier, leaving the others unchanged', async () => {
    const [created] = (await upsert([{ mobile: '912200000001' }])).body.customers;
    const steps: [object, object][] = [
      [{ mobile: '912200000001', email: 'u@example.com' }, { email: 'u@example.com' }],
      [{ email: 'u@example.com', externalId: 'U-1' }, { externalId: 'U-1' }],
      [{ externalId: 'U-1', mobile: 912200000002 }, { mobile: '912200000002' }],
      [{ id: created.id, email: 'u2@example.com', loyaltyPrograms: [50, 51] }, { email: 'u2@example.com' }],
    ];
    let expected = { ...created };
    for (const [entry, change] of steps) {
      expected = { ...expected, ...change };
      const response = await upsert([entry]);
      expect(response.status).toBe(200);
      expect(response.body.customers).toEqual([expected]);
    }
    expect((await admin('GET', `/orgs/${ORG}/customers/${created.id}`)).body.loyaltyProgramIds).toEqual([50, 51]);
  });

  it('applies entries in order: the same customer twice behaves as two calls', async () => {
    const response = await upsert([
      { mobile: '913300000001', email: 's@example.com' },
      { mobile: '913300000001', externalId: 'S-1', loyaltyPrograms: [50] },
      { externalId: 'S-1', mobile: '913300000002' },
      { mobile: '913300000001' },
    ]);
    expect(response.status).toBe(200);
    const [first, second, third, fourth] = response.body.customers;
    expect(first).toEqual({ id: first.id, mobile: '913300000001', email: 's@example.com', externalId: null });
    expect(second).toEqual({ ...first, externalId: 'S-1' });
    expect(third).toEqual({ ...second, mobile: '913300000002' });
    // The first mobile was released by the third entry, so the fourth creates a new customer with it.
    expect(fourth).toEqual({ id: expect.any(Number), mobile: '913300000001', email: null, externalId: null });
    expect(fourth.id).not.toBe(first.id);
  });

  it('moves and swaps identifiers between stored customers within one request', async () => {
    const [a, b] = (await upsert([{ mobile: '914400000001' }, { mobile: '914400000002' }])).body.customers;
    const response = await upsert([
      { id: a.id, mobile: '914400000009' },
      { id: b.id, mobile: '914400000001' },
      { id: a.id, mobile: '914400000002' },
    ]);
    expect(response.status).toBe(200);
    expect((await admin('GET', `/orgs/${ORG}/customers/${a.id}`)).body.mobile).toBe('914400000002');
    expect((await admin('GET', `/orgs/${ORG}/customers/${b.id}`)).body.mobile).toBe('914400000001');
  });

  it('rejects the whole request naming every entry at fault, writing nothing', async () => {
    const [a, b] = (
      await upsert([
        { mobile: '915500000001', email: 'x1@example.com' },
        { mobile: '915500000002', email: 'x2@example.com' },
      ])
    ).body.customers;
    const before = await countCustomers();
    const response = await upsert([
      { mobile: '915500000003', loyaltyPrograms: [50] },
      { id: a.id, email: 'changed@example.com' },
      { mobile: '915500000001', email: 'x2@example.com' },
      { id: 999999999 },
      { mobile: '915500000004', loyaltyPrograms: [60] },
      { loyaltyPrograms: [50] },
      { id: a.id, externalId: 'new', mobile: '915500000002' },
    ]);
    expect(response.status).toBe(400);
    expect(messages(response)).toEqual([
      'customers[2]: mobile and email belong to different customers',
      'customers[3].id: no customer with id 999999999',
      'customers[4].loyaltyPrograms[0]: no loyalty program 60 in this org',
      'customers[5]: needs at least one of id, mobile, email, externalId',
      'customers[6]: id and mobile belong to different customers',
    ]);
    expect(await countCustomers()).toBe(before);
    expect((await admin('GET', `/orgs/${ORG}/customers/${a.id}`)).body.email).toBe('x1@example.com');
    expect((await admin('GET', `/orgs/${ORG}/customers/${b.id}`)).body.mobile).toBe('915500000002');
  });

  it('validates the body shape naming the path, and at most 1000 customers', async () => {
    const shape = await upsert([{ mobile: '916600000001' }, { mobile: '916600000002' }, { email: true }]);
    expect(shape.status).toBe(400);
    expect(messages(shape)).toContain('customers[2].email: must be string');
    const tooMany = await upsert(
      Array.from({ length: 1001 }, (_, i) => ({ mobile: `9177${String(i).padStart(8, '0')}` })),
    );
    expect(tooMany.status).toBe(400);
    expect(messages(tooMany)).toEqual(['customers: must not have more than 1000 items']);
    expect((await upsert([])).status).toBe(400);
    expect((await admin('POST', `/orgs/${ORG}/customers`, { customers: [{ mobile: '1' }], extra: 1 })).status).toBe(
      400,
    );
  });

  it('answers 400, never 500, to values the database cannot take', async () => {
    const nul = await upsert([{ mobile: '916600000009' }, { email: 'a\u0000b@example.com' }]);
    expect(nul.status).toBe(400);
    expect(messages(nul)).toEqual([
      'customers[1].email: must not contain the NUL character (U+0000) or a lone UTF-16 surrogate',
    ]);
    const surrogate = await upsert([{ mobile: '916600000009', externalId: 'X\ud800' }]);
    expect(surrogate.status).toBe(400);
    expect(messages(surrogate)).toEqual([
      'customers[0].externalId: must not contain the NUL character (U+0000) or a lone UTF-16 surrogate',
    ]);
    const huge = await upsert([
      { id: 2 ** 63, mobile: '916600000010' },
      { mobile: '916600000011', loyaltyPrograms: [2 ** 64] },
    ]);
    expect(huge.status).toBe(400);
    expect(messages(huge)).toEqual([
      `customers[0].id: no customer with id ${2 ** 63}`,
      `customers[1].loyaltyPrograms[0]: no loyalty program ${2 ** 64} in this org`,
    ]);
    const malformed = await server.request('POST', `/admin/v1/orgs/${ORG}/customers`, {
      admin: true,
      rawBody: '{"customers": [',
      headers: { 'content-type': 'application/json' },
    });
    expect(malformed.status).toBe(400);
    expect((await admin('PUT', `/orgs/${ORG}/tills/bad%00name`, { password: 'x', accessGroups: [] })).status).toBe(400);
  });

  it('upserts 1000 customers in one request', async () => {
    const batch = Array.from({ length: 1000 }, (_, i) => ({
      mobile: `9188${String(i).padStart(8, '0')}`,
      loyaltyPrograms: [50],
    }));
    const response = await upsert(batch);
    expect(response.status).toBe(200);
    expect(response.body.customers.map((c: { mobile: string }) => c.mobile)).toEqual(batch.map((c) => c.mobile));
    const again = await upsert(batch.map((c, i) => ({ ...c, email: `bulk${i}@example.com` })));
    expect(again.body.customers.map((c: { id: number }) => c.id)).toEqual(
      response.body.customers.map((c: { id: number }) => c.id),
    );
  });

  it('keeps orgs apart: 404 for an unknown org or a customer of another org', async () => {
    const [mine] = (await upsert([{ mobile: '919900000001' }])).body.customers;
    expect((await admin('GET', `/orgs/${OTHER_ORG}/customers/${mine.id}`)).status).toBe(404);
    const theirs = await upsert([{ mobile: '919900000001' }], OTHER_ORG);
    expect(theirs.status).toBe(200);
    expect(theirs.body.customers[0].id).not.toBe(mine.id);
    expect((await upsert([{ mobile: '1' }], 707)).status).toBe(404);
  });
});

describe('applyDeclarations', () => {
  const snapshot = async () => ({
    orgs: await db().selectFrom('orgs').selectAll().orderBy('id').execute(),
    loyaltyPrograms: await db().selectFrom('loyalty_programs').selectAll().orderBy('id').execute(),
    partnerPrograms: await db().selectFrom('partner_programs').selectAll().orderBy('id').execute(),
    tiers: await db()
      .selectFrom('partner_program_tiers')
      .selectAll()
      .orderBy('partner_program_id')
      .orderBy('number')
      .execute(),
    tills: await db().selectFrom('tills').selectAll().orderBy('id').execute(),
    customers: await db().selectFrom('customers').selectAll().orderBy('id').execute(),
    enrolments: await db()
      .selectFrom('customer_enrolments')
      .selectAll()
      .orderBy('customer_id')
      .orderBy('loyalty_program_id')
      .execute(),
  });
  const apply = (value: Declarations) =>
    applyDeclarations(db(), value, { defaultTimezone: 'UTC', clock: server.clock });

  it('is idempotent: the same declarations twice change nothing, password hashes included', async () => {
    await apply(declarations());
    const before = await snapshot();
    await apply(declarations());
    expect(await snapshot()).toEqual(before);
    const till = before.tills.find((t) => t.username === 'admin.till');
    expect(await verifySecret(tillSecretOf('secret-1'), till?.password_hash ?? '')).toBe(true);
  });

  it('applies the demo file, twice', async () => {
    const demo = await readDeclarationsFile('config/demo.yaml');
    await apply(demo);
    const first = await snapshot();
    await apply(demo);
    expect(await snapshot()).toEqual(first);
    const org = (await admin('GET', '/orgs/100')).body;
    expect(org).toMatchObject({
      id: 100,
      name: 'Demo Retail',
      timezone: 'Asia/Kolkata',
      configs: { ALLOW_MEMBERSHIP_RELINKING: true },
      customerCount: 3,
    });
    expect(org.tills).toEqual([{ username: 'demo.till', accessGroups: ['DEFAULT', 'PARTNER_PROGRAM'] }]);
    const programs = org.loyaltyPrograms[0].partnerPrograms;
    expect(programs.map((p: { name: string }) => p.name)).toEqual(['Goldstar', 'Coalition', 'SPP_1', 'SPP_2']);
    expect(programs[0].tiers).toEqual(['Silver', 'Gold', 'Platinum']);
    expect(programs[2]).toMatchObject({
      membershipCycle: { unit: 'MONTHS', value: 1 },
      expiryDate: '2030-12-31T23:59:59+05:30',
      backupProgram: 'SPP_2',
      expiryReminderDays: [30, 7],
    });
  });

  it('fails with the path of the problem and writes nothing', async () => {
    const before = await snapshot();
    const changed = declarations();
    changed.orgs[0]!.name = 'Renamed by a failing apply';
    changed.orgs[0]!.loyaltyPrograms![0]!.partnerPrograms![0] = {
      name: 'TIERED',
      type: 'SUPPLEMENTARY',
      membershipCycle: { unit: 'DAYS', value: 1 },
    };
    const failure = apply(changed);
    await expect(failure).rejects.toBeInstanceOf(DeclarationError);
    await expect(failure).rejects.toMatchObject({
      problems: [
        'orgs[0].loyaltyPrograms[0].partnerPrograms[0].type: "TIERED" is EXTERNAL; the type of a program cannot change',
      ],
    });
    expect(await snapshot()).toEqual(before);
  });
});
