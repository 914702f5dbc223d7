import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Declarations } from '../../src/domain/configuration/declarations.js';
import { backend } from '../support/database.js';
import { NOW } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/server.js';

// SPEC §11 on Citus: an org's rows live on one shard, which an operator may move to another worker
// while the service runs. A non-blocking (logical) move under continuous linking loses nothing:
// every link the service acknowledged is stored once, and the only failure a client may see while
// the move cuts over is the retryable 2010 (customer busy).

/** Four orgs, each with a till, an EXTERNAL program and customers enrolled in its loyalty program. */
const ORGS = [610, 620, 630, 640] as const;
type Org = (typeof ORGS)[number];
const BUSY: Org = 610;
const PROGRAM = 'Partner';
/** Customers declared per org: far more than the load links (it stops, and the test fails, if one org runs out). */
const CUSTOMERS: Record<Org, number> = { 610: 20_000, 620: 4_000, 630: 4_000, 640: 4_000 };
const tillOf = (org: Org): [string, string] => [`shard${org}.till`, `shard${org}-secret`];
const mobileOf = (org: Org, n: number) => `918${org}${String(n).padStart(6, '0')}`;

const LOOPS = 4;
const BATCH = 5;
/** Of every 10 requests, 7 go to the busy org and the rest round the others. */
const orgOfRequest = (n: number): Org => (n % 10 < 7 ? BUSY : ORGS[1 + (n % 3)]!);
/** Load before the move starts and after it returns. */
const WARM_UP_MS = 1_000;
const COOL_DOWN_MS = 1_500;

function shardMoveDeclarations(): Declarations {
  return {
    orgs: ORGS.map((org) => ({
      id: org,
      name: `Shard org ${org}`,
      timezone: 'UTC',
      loyaltyPrograms: [{ id: org / 10, name: 'Main', partnerPrograms: [{ name: PROGRAM, type: 'EXTERNAL' }] }],
      tills: [{ username: tillOf(org)[0], password: tillOf(org)[1], accessGroups: ['DEFAULT', 'PARTNER_PROGRAM'] }],
      customers: Array.from({ length: CUSTOMERS[org] }, (_, i) => ({
        mobile: mobileOf(org, i + 1),
        loyaltyPrograms: [org / 10],
      })),
    })),
  };
}

interface Sent {
  org: Org;
  mobiles: string[];
  startedAt: number;
  endedAt: number;
  status: number;
  /** Each customer's entry code, in request order; none when the answer had no entries. */
  codes: number[];
  /** The whole answer, for failures only. */
  text?: string;
}

let server: TestServer;

beforeAll(async () => {
  if (backend !== 'citus') return;
  server = await startTestServer({ declarations: shardMoveDeclarations(), now: NOW });
}, 120_000);
afterAll(() => server?.close());

async function placementOf(shardId: number) {
  const { rows } = await sql<{ nodename: string; nodeport: number }>`
    select nodename, nodeport from citus_shards where shardid = ${shardId}::bigint`.execute(server.database.db);
  return rows.map((r) => ({ host: r.nodename, port: Number(r.nodeport) }));
}

describe.skipIf(backend !== 'citus')('a shard move under load (Citus only: moves a shard between workers)', () => {
  it('loses no acknowledged link and fails nothing but 2010 while the busy org moves to the other worker', async () => {
    const db = server.database.db;
    const shard = await sql<{ id: string }>`
        select get_shard_id_for_distribution_column('customers', ${BUSY}::bigint) as id`.execute(db);
    const shardId = Number(shard.rows[0]!.id);
    const [source, ...more] = await placementOf(shardId);
    expect(source, `shard ${shardId} has one placement`).toBeDefined();
    expect(more).toEqual([]);
    const workers = await sql<{ nodename: string; nodeport: number }>`
        select nodename, nodeport from pg_dist_node
        where noderole = 'primary' and groupid <> 0 and isactive
        order by nodeport`.execute(db);
    const destinations = workers.rows
      .map((r) => ({ host: r.nodename, port: Number(r.nodeport) }))
      .filter((w) => w.host !== source!.host || w.port !== source!.port);
    expect(destinations).toHaveLength(1);
    const destination = destinations[0]!;

    // The load: LOOPS loops, each sending one batch of BATCH fresh customers of one org at a time.
    const sent: Sent[] = [];
    const next: Record<Org, number> = { 610: 1, 620: 1, 630: 1, 640: 1 };
    let exhausted: Org | undefined;
    let requestNumber = 0;
    let stop = false;
    const loop = async () => {
      while (!stop) {
        const org = orgOfRequest(requestNumber++);
        if (next[org] + BATCH - 1 > CUSTOMERS[org]) {
          exhausted = org;
          return;
        }
        const mobiles = Array.from({ length: BATCH }, () => mobileOf(org, next[org]++));
        const startedAt = performance.now();
        const record: Sent = { org, mobiles, startedAt, endedAt: 0, status: 0, codes: [] };
        try {
          const response = await server.request('POST', '/v2/partnerProgram/linkCustomer', {
            auth: tillOf(org),
            body: {
              linkCustomers: mobiles.map((mobile) => ({
                customer: { mobile },
                linkToPartnerPrograms: [
                  { partnerProgramName: PROGRAM, customerPartnerReference: { partnerMembershipId: `M${mobile}` } },
                ],
              })),
            },
          });
          record.status = response.status;
          const items: Array<{ linkToPartnerPrograms?: Array<{ partnerLinkStatus?: { code?: number } }> }> =
            response.body?.linkCustomers ?? [];
          record.codes = items.map((item) => item.linkToPartnerPrograms?.[0]?.partnerLinkStatus?.code ?? -1);
          if (response.status !== 200) record.text = response.text;
        } catch (error) {
          record.text = String(error);
        }
        record.endedAt = performance.now();
        sent.push(record);
      }
    };

    const loadStartedAt = performance.now();
    const loops = Array.from({ length: LOOPS }, loop);
    await new Promise((resolve) => setTimeout(resolve, WARM_UP_MS));

    const moveStartedAt = performance.now();
    let moveError: unknown;
    try {
      await sql`
          select citus_move_shard_placement(${shardId}::bigint, ${source!.host}::text, ${source!.port}::int,
            ${destination.host}::text, ${destination.port}::int, shard_transfer_mode => 'force_logical')`.execute(db);
    } catch (error) {
      moveError = error;
    }
    const moveEndedAt = performance.now();
    await new Promise((resolve) => setTimeout(resolve, COOL_DOWN_MS));
    stop = true;
    await Promise.all(loops);
    const loadEndedAt = performance.now();
    if (moveError) throw moveError;

    expect(await placementOf(shardId)).toEqual([destination]);
    // The colocated shards went with it: the org's memberships are on the destination too.
    const memberships = await sql<{ id: string }>`
      select get_shard_id_for_distribution_column('memberships', ${BUSY}::bigint) as id`.execute(db);
    expect(await placementOf(Number(memberships.rows[0]!.id))).toEqual([destination]);

    // What the clients saw.
    const acknowledged = new Map<Org, string[]>(ORGS.map((org) => [org, []]));
    const failures = new Map<string, number>();
    const failed: Sent[] = [];
    for (const record of sent) {
      const allSucceeded =
        record.status === 200 && record.codes.length === BATCH && record.codes.every((c) => c === 200);
      record.codes.forEach((code, i) => {
        if (code === 200) acknowledged.get(record.org)!.push(record.mobiles[i]!);
      });
      if (allSucceeded) continue;
      failed.push(record);
      const key = `HTTP ${record.status} / ${[...new Set(record.codes)].join(',') || 'no entries'}`;
      failures.set(key, (failures.get(key) ?? 0) + 1);
    }
    const links = [...acknowledged.values()].reduce((n, mobiles) => n + mobiles.length, 0);
    const duringMove = sent.filter((r) => r.startedAt >= moveStartedAt && r.endedAt <= moveEndedAt).length;
    const afterMove = sent.filter((r) => r.startedAt >= moveEndedAt).length;
    const spanning = sent.filter((r) => r.startedAt < moveEndedAt && r.endedAt > moveStartedAt);
    const slowest = Math.max(...sent.map((r) => r.endedAt - r.startedAt));
    console.info(
      [
        `shard move of ${shardId} (org ${BUSY}) ${source!.port} → ${destination.port}: ` +
          `${Math.round(moveEndedAt - moveStartedAt)} ms`,
        `load ${Math.round(loadEndedAt - loadStartedAt)} ms: ${sent.length} requests, ${links} acknowledged links ` +
          `(${ORGS.map((org) => `${org}: ${acknowledged.get(org)!.length}`).join(', ')})`,
        `requests within the move: ${duringMove}, overlapping it: ${spanning.length}, after it: ${afterMove}, ` +
          `slowest: ${Math.round(slowest)} ms`,
        `failures: ${failures.size ? [...failures].map(([k, n]) => `${k} × ${n}`).join('; ') : 'none'}`,
        ...failed.slice(0, 5).map((r) => `  ${r.org} HTTP ${r.status}: ${r.text?.slice(0, 400)}`),
      ].join('\n'),
    );

    // The load ran through the move and was of some size.
    expect(exhausted, `org ${exhausted} ran out of declared customers`).toBeUndefined();
    expect(duringMove).toBeGreaterThan(10);
    expect(afterMove).toBeGreaterThan(0);
    expect(links).toBeGreaterThan(100);
    expect(acknowledged.get(BUSY)!.length).toBeGreaterThan(links / 2);

    // Nothing but 2010, and a 2010 answer rolls the whole batch back (HTTP 400, every entry 2010).
    for (const record of failed) {
      expect({ status: record.status, codes: record.codes, text: record.text }).toEqual({
        status: 400,
        codes: Array<number>(BATCH).fill(2010),
        text: record.text,
      });
    }

    // Every acknowledged link is stored, once; nothing else is.
    const duplicates = await sql`
        select org_id, customer_id, partner_program_id, count(*) as n from memberships
        group by org_id, customer_id, partner_program_id having count(*) > 1`.execute(db);
    expect(duplicates.rows).toEqual([]);
    for (const org of ORGS) {
      const stored = await db
        .selectFrom('memberships')
        .innerJoin('customers', (join) =>
          join
            .onRef('customers.org_id', '=', 'memberships.org_id')
            .onRef('customers.id', '=', 'memberships.customer_id'),
        )
        .innerJoin('partner_programs', (join) =>
          join
            .onRef('partner_programs.org_id', '=', 'memberships.org_id')
            .onRef('partner_programs.id', '=', 'memberships.partner_program_id'),
        )
        .select(['customers.mobile', 'partner_programs.name'])
        .where('memberships.org_id', '=', org)
        .execute();
      expect(stored.every((row) => row.name === PROGRAM)).toBe(true);
      expect(stored.map((row) => row.mobile).sort(), `the memberships of org ${org}`).toEqual(
        [...acknowledged.get(org)!].sort(),
      );
    }
  }, 180_000);
});
