import { CompiledQuery, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend } from '../support/database.js';
import { brandDeclarations, entryCode, link, mobileOf, NOW, TILL } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/server.js';

// Every statement the API's hot path and the scheduler's sweeps issue is answered through an
// index. Each one is captured as the repositories send it, then EXPLAINed with sequential scans
// priced out (`enable_seqscan = off`): the planner then takes any index that can serve, so a
// sequential scan left in a plan means no index can, whatever the table's size.
let server: TestServer;
let capturing = false;
const captured = new Map<string, readonly unknown[]>();

beforeAll(async () => {
  server = await startTestServer({
    declarations: brandDeclarations(60),
    now: NOW,
    defaultAuth: TILL,
    onQuery: ({ sql: text, parameters }) => {
      if (capturing && /^\s*(select|insert|update|delete|with)\b/i.test(text)) captured.set(text, parameters);
    },
  });
});
afterAll(() => server.close());

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  Plans?: PlanNode[];
}

/**
 * The tables scanned sequentially anywhere in a plan: in its child plans and, on Citus, in the
 * workers' plans of its tasks (`Distributed Query` → `Job` → `Tasks` → `Remote Plan`), whose
 * relations are shards (`memberships_102034`: the table's name and the shard's id).
 */
function sequentialScans(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(sequentialScans);
  if (typeof node !== 'object' || node === null) return [];
  const plan = node as Partial<PlanNode>;
  const relation = plan['Relation Name']?.replace(backend === 'citus' ? /_\d+$/ : /$^/, '');
  const own = plan['Node Type'] === 'Seq Scan' ? [relation ?? '?'] : [];
  return [...own, ...Object.values(node).flatMap(sequentialScans)];
}

async function planOf(text: string, parameters: readonly unknown[]): Promise<PlanNode> {
  return server.database.db.transaction().execute(async (trx) => {
    await sql`set local enable_seqscan = off`.execute(trx);
    const result = await trx.executeQuery<{ 'QUERY PLAN': unknown }>(
      CompiledQuery.raw(`explain (format json) ${text}`, [...parameters]),
    );
    const json = result.rows[0]!['QUERY PLAN'];
    const plans = (typeof json === 'string' ? JSON.parse(json) : json) as Array<{ Plan: PlanNode }>;
    return plans[0]!.Plan;
  });
}

async function withCapture(work: () => Promise<void>): Promise<Map<string, readonly unknown[]>> {
  captured.clear();
  capturing = true;
  try {
    await work();
  } finally {
    capturing = false;
  }
  return new Map(captured);
}

/**
 * Scans made on purpose. The delivery claim walks every active subscription in turn (the fair
 * share of SPEC §9.4 rotates over all of them), one row per subscription, each then probing the
 * partial index of its due deliveries.
 */
const DELIBERATE_SCANS = [{ table: 'webhook_subscriptions', statement: /^\s*with busy as \(/ }];

async function expectIndexedOnly(statements: Map<string, readonly unknown[]>) {
  expect(statements.size).toBeGreaterThan(0);
  const scans: string[] = [];
  for (const [text, parameters] of statements) {
    const tables = sequentialScans(await planOf(text, parameters)).filter(
      (table) => !DELIBERATE_SCANS.some((allowed) => allowed.table === table && allowed.statement.test(text)),
    );
    if (tables.length > 0) scans.push(`${tables.join(', ')}: ${text.replace(/\s+/g, ' ').slice(0, 200)}`);
  }
  expect(scans).toEqual([]);
}

const query = (mobile: string) => `identifierName=mobile&identifierValue=${mobile}`;

describe(`every hot-path statement uses an index (${backend})`, () => {
  it('tells a statement no index serves (the check itself)', async () => {
    const plan = await planOf('select id from membership_activities where source = $1', ['API']);
    expect(sequentialScans(plan)).toEqual(['membership_activities']);
  });

  it('link, update and delink, with the events of a subscription', async () => {
    await server.request('PUT', '/admin/v1/orgs/100/webhooks/crm', {
      admin: true,
      body: { url: 'http://127.0.0.1:9/hooks', events: ['*'] },
    });
    const statements = await withCapture(async () => {
      const linked = await link(server, [
        [
          { mobile: mobileOf(2) },
          [
            {
              partnerProgramName: 'Goldstar',
              customerPartnerReference: { partnerMembershipId: 'G-2', partnerTierName: 'Silver' },
            },
          ],
        ],
        [
          { mobile: mobileOf(3) },
          [{ partnerProgramName: 'SPP_1', customerPartnerReference: { partnerMembershipId: 'S-3' } }],
        ],
      ]);
      expect([entryCode(linked.body, 0), entryCode(linked.body, 1)]).toEqual([200, 200]);
      const updated = await server.request('POST', '/v2/partnerProgram/customerPartnerProgramUpdate', {
        body: {
          customersPartnerUpdates: [
            {
              customer: { mobile: mobileOf(2) },
              partnerProgramUpdates: [
                {
                  partnerProgramName: 'Goldstar',
                  updateType: 'UPGRADE',
                  updateDetails: { updatedTierName: 'Gold', updatedTierExpiryDate: '2027-03-31T23:59:59+05:30' },
                },
              ],
            },
          ],
        },
      });
      expect(updated.status).toBe(200);
      const delinked = await server.request('POST', '/v2/partnerProgram/deLinkCustomer', {
        body: {
          deLinkCustomers: [
            {
              customer: { email: 'nobody@example.com' },
              deLinkFromPartnerPrograms: [{ partnerProgramName: 'Goldstar' }],
            },
            { customer: { mobile: mobileOf(2) }, deLinkFromPartnerPrograms: [{ partnerProgramName: 'Goldstar' }] },
          ],
        },
      });
      expect(delinked.status).toBe(201);
    });
    await expectIndexedOnly(statements);
  });

  it('the customer views, the history and the programs listing', async () => {
    const statements = await withCapture(async () => {
      for (const path of [
        `/v2/customers/lookup?source=ALL&${query(mobileOf(3))}`,
        `/v2/customers/lookup/partnerPrograms?${query(mobileOf(3))}`,
        `/v2/partnerProgram/customerActivityHistories?${query(mobileOf(3))}&activityType=LINKINGUPDATES&limit=10&offset=0`,
        '/v2/organization/programs',
      ]) {
        expect((await server.request('GET', path)).status, path).toBe(200);
      }
    });
    await expectIndexedOnly(statements);
  });

  it("the scheduler's sweeps", async () => {
    // A period that starts later, so the sweep has something due once the clock moves.
    const linked = await link(server, [
      [
        { mobile: mobileOf(4) },
        [
          {
            partnerProgramName: 'SPP_2',
            customerPartnerReference: { partnerMembershipId: 'S-4', membershipStartDate: '2026-07-01' },
          },
        ],
      ],
    ]);
    expect(entryCode(linked.body)).toBe(200);
    server.clock.set('2026-07-02T00:00:00Z');
    const statements = await withCapture(async () => {
      await server.runJobs();
    });
    await expectIndexedOnly(statements);
  });

  it("the delivery worker's claims and records", async () => {
    // The link test's subscription points at a closed port: each due delivery is claimed, attempted and recorded as failed.
    const statements = await withCapture(async () => {
      const report = await server.runDeliveries();
      expect(report.attempted).toBeGreaterThan(0);
    });
    await expectIndexedOnly(statements);
  });
});
