import type { KyselyPlugin } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Caller } from '../../src/domain/caller.js';
import { listOrgPrograms } from '../../src/domain/programs.service.js';
import type { Declarations } from '../../src/domain/configuration/declarations.js';
import { tokenOf, withToken } from '../support/security.js';
import { startTestServer, type TestServer } from '../support/server.js';

// SPEC §7b: GET /v2/organization/programs, Capillary's listing of an org's programs.
const PATH = '/v2/organization/programs';
const TILL: [string, string] = ['programs.till', 'programs-till-secret'];
const HISTORY_TILL: [string, string] = ['programs.history', 'programs-history-secret'];
const OTHER_TILL: [string, string] = ['programs.other', 'programs-other-secret'];
const EMPTY_TILL: [string, string] = ['programs.empty', 'programs-empty-secret'];
const CLIENT = { key: 'programs-client', secret: 'programs-client-secret-01' };
const HISTORY_CLIENT = { key: 'programs-history-client', secret: 'programs-history-secret-01' };

/**
 * Org 100 declares its loyalty programs out of id order and its partner programs out of name
 * order, in mixed case; org 200 uses the same partner program names, a lower loyalty program id
 * and another timezone; org 300 has no loyalty program.
 */
function declarations(): Declarations {
  return {
    orgs: [
      {
        id: 100,
        name: 'Brand',
        timezone: 'Asia/Kolkata',
        loyaltyPrograms: [
          {
            id: 17,
            name: 'Second',
            partnerPrograms: [{ name: 'Later', type: 'SUPPLEMENTARY', membershipCycle: { unit: 'DAYS', value: 30 } }],
          },
          {
            id: 13,
            name: 'Main',
            partnerPrograms: [
              { name: 'zeta', type: 'EXTERNAL' },
              {
                name: 'Goldstar',
                type: 'EXTERNAL',
                description: 'Coalition miles',
                tiers: ['Silver', 'Gold', 'Platinum'],
              },
              {
                name: 'SPP_1',
                type: 'SUPPLEMENTARY',
                description: 'Yearly plan',
                membershipCycle: { unit: 'MONTHS', value: 12 },
                expiryDate: '2030-12-31T23:59:59+05:30',
                backupProgram: 'spp_0',
                expiryReminderDays: [30],
              },
              { name: 'spp_0', type: 'SUPPLEMENTARY', membershipCycle: { unit: 'DAYS', value: 365 } },
              { name: 'Dormant', type: 'EXTERNAL', active: false },
              { name: 'bygone', type: 'EXTERNAL', expiryDate: '2026-01-01T00:00:00Z' },
            ],
          },
          { id: 15, name: 'Empty' },
        ],
        tills: [
          { username: TILL[0], password: TILL[1], accessGroups: ['DEFAULT'] },
          { username: HISTORY_TILL[0], password: HISTORY_TILL[1], accessGroups: ['PARTNER_PROGRAM'] },
        ],
        oauthClients: [
          { ...CLIENT, accessGroups: ['DEFAULT'] },
          { ...HISTORY_CLIENT, accessGroups: ['PARTNER_PROGRAM'] },
        ],
      },
      {
        id: 200,
        name: 'Other brand',
        timezone: 'America/New_York',
        loyaltyPrograms: [
          {
            id: 1,
            name: 'Other main',
            partnerPrograms: [
              { name: 'Goldstar', type: 'EXTERNAL', tiers: ['Bronze'], expiryDate: '2026-01-01T00:00:00Z' },
              { name: 'OtherOnly', type: 'SUPPLEMENTARY', membershipCycle: { unit: 'MONTHS', value: 1 } },
            ],
          },
        ],
        tills: [{ username: OTHER_TILL[0], password: OTHER_TILL[1], accessGroups: ['DEFAULT', 'PARTNER_PROGRAM'] }],
      },
      {
        id: 300,
        name: 'No programs yet',
        tills: [{ username: EMPTY_TILL[0], password: EMPTY_TILL[1], accessGroups: ['DEFAULT'] }],
      },
    ],
  };
}

let server: TestServer;
const ids: Record<number, Record<string, number>> = {};

beforeAll(async () => {
  server = await startTestServer({ declarations: declarations(), defaultAuth: TILL });
  for (const org of [100, 200]) {
    const { body } = await server.request('GET', `/admin/v1/orgs/${org}/partnerPrograms`, { admin: true });
    ids[org] = Object.fromEntries(body.partnerPrograms.map((p: { name: string; id: number }) => [p.name, p.id]));
  }
});
afterAll(() => server.close());

const external = (org: number, name: string, fields: object = {}) => ({
  partnerProgramId: ids[org]![name],
  partnerProgramName: name,
  partnerProgramDescription: '',
  partnerProgramType: 'EXTERNAL',
  tierBased: false,
  partnerProgramTiers: [],
  membershipPeriodValue: 0,
  pointsExchangeRate: 1,
  active: true,
  expiryDate: null,
  ...fields,
});

const supplementary = (org: number, name: string, unit: string, value: number, fields: object = {}) => ({
  partnerProgramId: ids[org]![name],
  partnerProgramName: name,
  partnerProgramDescription: '',
  partnerProgramType: 'SUPPLEMENTARY',
  tierBased: false,
  partnerProgramTiers: [],
  membershipPeriodType: unit,
  membershipPeriodValue: value,
  pointsExchangeRate: 1,
  active: true,
  expiryDate: null,
  ...fields,
});

describe('GET /v2/organization/programs', () => {
  it("answers the org's loyalty programs by id, the lowest default, partner programs by name", async () => {
    const response = await server.request('GET', PATH);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.body).toEqual({
      data: [
        {
          programId: 13,
          programName: 'Main',
          pointsToCurrencyRatio: 1,
          default: true,
          partnerPrograms: [
            external(100, 'bygone', { expiryDate: '2026-01-01T05:30:00+05:30' }),
            external(100, 'Dormant', { active: false }),
            external(100, 'Goldstar', {
              partnerProgramDescription: 'Coalition miles',
              tierBased: true,
              partnerProgramTiers: [
                { tierNumber: 1, tierName: 'Silver' },
                { tierNumber: 2, tierName: 'Gold' },
                { tierNumber: 3, tierName: 'Platinum' },
              ],
            }),
            supplementary(100, 'spp_0', 'DAYS', 365),
            supplementary(100, 'SPP_1', 'MONTHS', 12, {
              partnerProgramDescription: 'Yearly plan',
              expiryDate: '2030-12-31T23:59:59+05:30',
            }),
            external(100, 'zeta'),
          ],
        },
        { programId: 15, programName: 'Empty', pointsToCurrencyRatio: 1, default: false, partnerPrograms: [] },
        {
          programId: 17,
          programName: 'Second',
          pointsToCurrencyRatio: 1,
          default: false,
          partnerPrograms: [supplementary(100, 'Later', 'DAYS', 30)],
        },
      ],
      warnings: [],
      errors: [],
    });
  });

  it("writes each program's fields in Capillary's order, with no membershipPeriodType on EXTERNAL", async () => {
    const { body } = await server.request('GET', PATH);
    const programs = body.data[0].partnerPrograms as Array<Record<string, unknown>>;
    const goldstar = programs.find((p) => p.partnerProgramName === 'Goldstar')!;
    const spp = programs.find((p) => p.partnerProgramName === 'SPP_1')!;
    const order = [
      'partnerProgramId',
      'partnerProgramName',
      'partnerProgramDescription',
      'partnerProgramType',
      'tierBased',
      'partnerProgramTiers',
      'membershipPeriodType',
      'membershipPeriodValue',
      'pointsExchangeRate',
      'active',
      'expiryDate',
    ];
    expect(Object.keys(spp)).toEqual(order);
    expect(Object.keys(goldstar)).toEqual(order.filter((key) => key !== 'membershipPeriodType'));
    expect(Object.keys(body)).toEqual(['data', 'warnings', 'errors']);
    expect(Object.keys(body.data[0])).toEqual([
      'programId',
      'programName',
      'pointsToCurrencyRatio',
      'default',
      'partnerPrograms',
    ]);
  });

  it("answers the same to an OAuth client of the org, dates in the org's timezone", async () => {
    const token = await tokenOf(server, CLIENT);
    const viaHeader = await server.request('GET', PATH, withToken(token));
    expect(viaHeader.status).toBe(200);
    expect(viaHeader.body).toEqual((await server.request('GET', PATH)).body);
    const bearer = await server.request('GET', PATH, { auth: null, headers: { authorization: `Bearer ${token}` } });
    expect(bearer.body).toEqual(viaHeader.body);
  });

  it('shows what the admin API changes, at once', async () => {
    const put = await server.request('PUT', '/admin/v1/orgs/100/partnerPrograms/zeta', {
      admin: true,
      body: {
        loyaltyProgramId: 15,
        type: 'EXTERNAL',
        description: 'Moved',
        tiers: ['One', 'Two'],
        active: false,
        expiryDate: '2027-03-01T10:00:00',
      },
    });
    expect(put.status).toBe(200);
    const { body } = await server.request('GET', PATH);
    expect(body.data[0].partnerPrograms.map((p: { partnerProgramName: string }) => p.partnerProgramName)).toEqual([
      'bygone',
      'Dormant',
      'Goldstar',
      'spp_0',
      'SPP_1',
    ]);
    expect(body.data[1]).toEqual({
      programId: 15,
      programName: 'Empty',
      pointsToCurrencyRatio: 1,
      default: false,
      partnerPrograms: [
        external(100, 'zeta', {
          partnerProgramDescription: 'Moved',
          tierBased: true,
          partnerProgramTiers: [
            { tierNumber: 1, tierName: 'One' },
            { tierNumber: 2, tierName: 'Two' },
          ],
          active: false,
          expiryDate: '2027-03-01T10:00:00+05:30',
        }),
      ],
    });
  });

  it('shows each org only its own programs, in its own timezone, with its own default', async () => {
    const other = await server.request('GET', PATH, { auth: OTHER_TILL });
    expect(other.status).toBe(200);
    expect(other.body).toEqual({
      data: [
        {
          programId: 1,
          programName: 'Other main',
          pointsToCurrencyRatio: 1,
          default: true,
          partnerPrograms: [
            external(200, 'Goldstar', {
              tierBased: true,
              partnerProgramTiers: [{ tierNumber: 1, tierName: 'Bronze' }],
              expiryDate: '2025-12-31T19:00:00-05:00',
            }),
            supplementary(200, 'OtherOnly', 'MONTHS', 1),
          ],
        },
      ],
      warnings: [],
      errors: [],
    });
    const mine = await server.request('GET', PATH);
    const listedIds = mine.body.data.flatMap((lp: { partnerPrograms: Array<{ partnerProgramId: number }> }) =>
      lp.partnerPrograms.map((p) => p.partnerProgramId),
    );
    expect(listedIds).not.toContain(ids[200]!.Goldstar);
    expect(listedIds).not.toContain(ids[200]!.OtherOnly);
    expect(mine.text).not.toContain('OtherOnly');
    expect(mine.text).not.toContain('Bronze');
    expect(mine.body.data.map((lp: { default: boolean }) => lp.default)).toEqual([true, false, false]);
  });

  it('answers an empty list to an org without loyalty programs', async () => {
    const response = await server.request('GET', PATH, { auth: EMPTY_TILL });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ data: [], warnings: [], errors: [] });
  });

  it('needs credentials (401) that hold the DEFAULT access group (403)', async () => {
    const none = await server.request('GET', PATH, { auth: null });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Basic/);
    expect(none.body).toEqual({ errors: [{ status: false, code: 401, message: expect.any(String) }], warnings: [] });

    const wrong = await server.request('GET', PATH, { auth: [TILL[0], 'not-the-password'] });
    expect(wrong.status).toBe(401);
    expect(wrong.body.errors[0]).toMatchObject({ status: false, code: 401 });

    const forged = await server.request('GET', PATH, withToken('not-a-jwt'));
    expect(forged.status).toBe(401);

    const historyOnly = await server.request('GET', PATH, { auth: HISTORY_TILL });
    expect(historyOnly.status).toBe(403);
    expect(historyOnly.body).toEqual({
      errors: [{ status: false, code: 403, message: 'Access denied: this API needs the DEFAULT access group' }],
      warnings: [],
    });
    const historyClient = await server.request('GET', PATH, withToken(await tokenOf(server, HISTORY_CLIENT)));
    expect(historyClient.status).toBe(403);
    expect(historyClient.body.errors[0]).toMatchObject({ status: false, code: 403 });
  });

  it('answers only GET', async () => {
    const post = await server.request('POST', PATH, { body: {} });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toContain('GET');
  });
});

describe('the cost of the listing', () => {
  it('is two queries, however many programs the org has', async () => {
    let queries = 0;
    const counting: KyselyPlugin = {
      transformQuery: ({ node }) => {
        queries++;
        return node;
      },
      transformResult: async ({ result }) => result,
    };
    const db = server.database.db.withPlugin(counting);
    const caller: Caller = {
      org: { id: 100, timezone: 'Asia/Kolkata', configs: {} },
      accessGroups: ['DEFAULT'],
      credential: { kind: 'till', id: 1, name: TILL[0] },
    };
    const before = await listOrgPrograms({ db }, caller);
    expect(queries).toBe(2);
    for (let n = 0; n < 30; n++) {
      const put = await server.request('PUT', `/admin/v1/orgs/100/partnerPrograms/Extra_${n}`, {
        admin: true,
        body: { loyaltyProgramId: 13 + 2 * (n % 3), type: 'EXTERNAL', tiers: ['A', 'B'] },
      });
      expect(put.status).toBe(200);
    }
    queries = 0;
    const after = await listOrgPrograms({ db }, caller);
    expect(queries).toBe(2);
    const count = (listing: typeof before) => listing.reduce((sum, lp) => sum + lp.partnerPrograms.length, 0);
    expect(count(after)).toBe(count(before) + 30);
  });
});

describe('the OpenAPI document', () => {
  it('documents the listing, its answers and both program shapes', async () => {
    const { body: doc } = await server.request('GET', '/openapi.json');
    const operation = doc.paths[PATH].get;
    expect(operation.operationId).toBe('listOrganizationPrograms');
    expect(operation.security).toEqual([{ basicAuth: [] }, { oauthToken: [] }, { bearerToken: [] }]);
    expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['200', '401', '403', '429']));
    const schema = doc.components.schemas.OrganizationPrograms;
    const shapes = schema.properties.data.items.properties.partnerPrograms.items.anyOf;
    const typeOf = (shape: { properties: { partnerProgramType: { enum: string[] } } }) =>
      shape.properties.partnerProgramType.enum;
    expect(shapes.map(typeOf)).toEqual([['EXTERNAL'], ['SUPPLEMENTARY']]);
    expect(shapes[0].required).not.toContain('membershipPeriodType');
    expect(shapes[1].required).toContain('membershipPeriodType');
  });
});
