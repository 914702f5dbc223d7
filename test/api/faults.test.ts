import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brandDeclarations, entryCode, link, mobileOf, NOW, TILL } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/server.js';

// Faults of the service itself, made real by taking a table away from under it.
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ declarations: brandDeclarations(20), now: NOW, defaultAuth: TILL });
});
afterAll(() => server.close());

async function withoutTable(table: string, run: () => Promise<void>) {
  await sql`alter table ${sql.table(table)} rename to ${sql.table(`${table}_away`)}`.execute(server.database.db);
  try {
    await run();
  } finally {
    await sql`alter table ${sql.table(`${table}_away`)} rename to ${sql.table(table)}`.execute(server.database.db);
  }
}

const count = async (table: 'memberships' | 'membership_activities') =>
  Number(
    (
      await server.database.db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

describe('a fault of the service', () => {
  it('answers 2001 on every entry with HTTP 500 and writes nothing of the batch', async () => {
    const before = await count('memberships');
    await withoutTable('membership_activities', async () => {
      const response = await link(server, [
        [
          { mobile: mobileOf(1) },
          [{ partnerProgramName: 'Goldstar', customerPartnerReference: { partnerMembershipId: 'a' } }],
        ],
        [
          { mobile: mobileOf(2) },
          [
            { partnerProgramName: 'SPP_1', customerPartnerReference: { partnerMembershipId: 'b' } },
            { partnerProgramName: 'Coalition' },
          ],
        ],
      ]);
      expect(response.status).toBe(500);
      const statuses = response.body.linkCustomers.flatMap(
        (c: { linkToPartnerPrograms: Array<{ partnerLinkStatus: unknown }> }) =>
          c.linkToPartnerPrograms.map((p) => p.partnerLinkStatus),
      );
      expect(statuses).toEqual(Array(3).fill({ status: false, code: 2001, message: 'Partner program event failed' }));
    });
    expect(await count('memberships')).toBe(before);
    const retry = await link(server, [
      [
        { mobile: mobileOf(1) },
        [{ partnerProgramName: 'Goldstar', customerPartnerReference: { partnerMembershipId: 'a' } }],
      ],
    ]);
    expect(retry.status).toBe(200);
  });

  it('answers an unexpected failure with the JSON envelope and HTTP 500', async () => {
    await withoutTable('tills', async () => {
      const response = await link(server, [[{ mobile: mobileOf(3) }, [{ partnerProgramName: 'Goldstar' }]]]);
      expect(response.status).toBe(500);
      expect(response.body).toEqual({
        errors: [{ status: false, code: 500, message: 'Internal error' }],
        warnings: [],
      });
    });
  });
});

describe('values PostgreSQL cannot hold', () => {
  it('refuses credentials holding a NUL character as any wrong credentials', async () => {
    const header = `Basic ${Buffer.from('brand\u0000till:secret').toString('base64')}`;
    const response = await server.request('POST', '/v2/partnerProgram/linkCustomer', {
      body: { linkCustomers: [] },
      headers: { authorization: header },
    });
    expect(response.status).toBe(401);
    expect(response.body.errors[0].code).toBe(401);
    const token = await server.request('POST', '/v3/oauth/token/generate', {
      body: { key: 'a\u0000b', secret: 'x'.repeat(20) },
      auth: null,
    });
    expect(token.status).toBe(401);
  });

  it.each([
    '/v2/customers/lookup/partnerPrograms?identifierName=mobile&identifierValue=%00abc',
    '/v2/customers/lookup/partnerPrograms?identifierName=email&identifierValue=a%00',
    '/v2/partnerProgram/customerActivityHistories?identifierName=externalId&identifierValue=%00&activityType=LINKINGUPDATES',
  ])('finds nobody for a NUL character: %s', async (path) => {
    const response = await server.request('GET', path);
    expect(response.status).toBe(404);
    expect(response.body.errors[0].code).toBe(1011);
  });
});

describe('a lone UTF-16 surrogate, which has no UTF-8 form', () => {
  const lone = 'lone\ud800surrogate';

  it('fails a membership id alone with 2002 and writes nothing', async () => {
    const before = await count('memberships');
    const response = await link(server, [
      [
        { mobile: mobileOf(11) },
        [{ partnerProgramName: 'Goldstar', customerPartnerReference: { partnerMembershipId: lone } }],
      ],
      [
        { mobile: mobileOf(12) },
        [{ partnerProgramName: 'Goldstar', customerPartnerReference: { partnerMembershipId: 'ok' } }],
      ],
    ]);
    expect(response.status).toBe(201);
    expect(entryCode(response.body, 0)).toBe(2002);
    expect(entryCode(response.body, 1)).toBe(200);
    expect(await count('memberships')).toBe(before + 1);
  });

  it('matches no customer and no program, as a NUL character does', async () => {
    const byCustomer = await link(server, [[{ mobile: lone }, [{ partnerProgramName: 'Goldstar' }]]]);
    expect(byCustomer.status).toBe(400);
    expect(byCustomer.body.linkCustomers[0].customer.status.code).toBe(1011);
    const byProgram = await link(server, [
      [{ mobile: mobileOf(13) }, [{ partnerProgramName: `Gold\udc00star` }]],
      [
        { mobile: mobileOf(13) },
        [{ partnerProgramName: 'Goldstar', customerPartnerReference: { partnerMembershipId: 'G13' } }],
      ],
    ]);
    expect([entryCode(byProgram.body, 0), entryCode(byProgram.body, 1)]).toEqual([2006, 200]);
    const update = await server.request('POST', '/v2/partnerProgram/customerPartnerProgramUpdate', {
      body: {
        customersPartnerUpdates: [
          {
            customer: { mobile: mobileOf(13) },
            partnerProgramUpdates: [
              { partnerProgramName: 'Goldstar', updateType: 'UPDATE', updateDetails: { updatedTierName: lone } },
            ],
          },
        ],
      },
    });
    expect(update.status).toBe(400);
    expect(update.body.customersPartnerUpdates[0].partnerProgramUpdates[0].updateStatus.code).toBe(2007);
    const delink = await server.request('POST', '/v2/partnerProgram/deLinkCustomer', {
      body: {
        deLinkCustomers: [{ customer: { email: lone }, deLinkFromPartnerPrograms: [{ partnerProgramName: lone }] }],
      },
    });
    expect(delink.status).toBe(400);
    expect(delink.body.deLinkCustomers[0].customer.status.code).toBe(1011);
  });

  it('is a wrong OAuth key, not a fault', async () => {
    const token = await server.request('POST', '/v3/oauth/token/generate', {
      body: { key: lone, secret: 'x'.repeat(20) },
      auth: null,
    });
    expect(token.status).toBe(401);
  });
});
