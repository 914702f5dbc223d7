import pg from 'pg';
import type { LinkSlots } from './batches.js';
import { ORG_ID } from './bench-database.js';
import { measureCpu } from './machine.js';
import { percentile, rates, type Measurement } from './measurement.js';
import { BATCH_SIZE } from './settings.js';

/** Where one batch's values come from: bind parameters here, a sequence in the pgbench script. */
export interface LinkBatchValues {
  /** Common table expressions the values below refer to, each followed by a comma; '' for none. */
  ctes: string;
  org: string;
  program: string;
  /** A FROM item with the columns (customer_id, membership_id), one row per customer. */
  customers: string;
}

/**
 * The floor the service is compared with: what the service's final write does, as one statement
 * per batch and nothing else (no HTTP, no auth, no program/customer/membership reads, no explicit
 * transaction). New memberships feed their ENROLLMENT activities through a CTE, as in
 * `saveMembershipChanges`. One text for the raw SQL run and for pgbench (bench/lib/pgbench-load.ts),
 * so that both write the same rows the same way.
 */
export function linkBatchStatement({ ctes, org, program, customers }: LinkBatchValues): string {
  return `
  with ${ctes}saved as (
    insert into memberships (org_id, customer_id, partner_program_id, program_type, partner_membership_id,
      state, tier_number, start_at, created_at, updated_at)
    select ${org}, c.customer_id, ${program}, 'EXTERNAL', c.membership_id, 'LINKED', 1, now(), now(), now()
    from ${customers}
    on conflict (org_id, customer_id, partner_program_id) do nothing
    returning id, partner_membership_id
  )
  insert into membership_activities (org_id, membership_id, activity_type, occurred_at, source, details)
  select ${org}, saved.id, 'ENROLLMENT', now(), 'API',
    jsonb_build_object('partnerMembershipId', saved.partner_membership_id, 'tierNumber', 1)
  from saved`;
}

/** Sent unnamed, so it is parsed and planned each time like the service's statements. */
const LINK_BATCH = linkBatchStatement({
  ctes: '',
  org: '$1',
  program: '$2',
  customers: 'unnest($3::bigint[], $4::text[]) as c(customer_id, membership_id)',
});

const WARM_UP_PER_CONNECTION = 4;

export interface RawSqlLevel {
  databaseUrl: string;
  connections: number;
  seconds: number;
  levelsLeft: number;
  /** Slots by partner program id. */
  slots: LinkSlots<number>;
  /** The batches the service completed at this level: the raw side does the same work. */
  serviceBatches: number | undefined;
  /** Customer index i has id firstCustomerId + i (the seed makes them consecutive). */
  firstCustomerId: number;
  countMemberships: () => Promise<number>;
}

interface RawRun {
  batches: number;
  /** Statements that wrote BATCH_SIZE activities, i.e. BATCH_SIZE new memberships. */
  ok: number;
  seconds: number;
  latenciesMs: number[];
}

/**
 * `connections` workers on a pool of that size, each sending one batch after another, for as
 * many batches as the service did (the same work, so the same rows in the tables afterwards),
 * within `seconds` and this level's share of slots. Being faster, the raw run is shorter.
 */
export async function measureRawSqlLevel(level: RawSqlLevel): Promise<Measurement | undefined> {
  const { connections } = level;
  const warmUpAmount = connections * WARM_UP_PER_CONNECTION;
  const available = level.slots.shareFor(level.levelsLeft) - warmUpAmount;
  const target = Math.min(level.serviceBatches ?? available, available);
  if (target < connections) return undefined;

  const pool = new pg.Pool({ connectionString: level.databaseUrl, max: connections });
  try {
    const before = await level.countMemberships();
    const warmUp = await runBatches(pool, level, warmUpAmount, Infinity);
    const cpu = measureCpu(() => undefined);
    const run = await runBatches(pool, level, target, level.seconds * 1000);
    const cpuUse = cpu();
    const added = (await level.countMemberships()) - before;
    return {
      connections,
      batches: run.batches,
      seconds: run.seconds,
      ...rates(run.batches, run.seconds),
      p50Ms: percentile(run.latenciesMs, 0.5),
      p99Ms: percentile(run.latenciesMs, 0.99),
      failed: warmUp.batches - warmUp.ok + run.batches - run.ok,
      errors: 0,
      cappedByCustomers: run.batches === available && available < (level.serviceBatches ?? Infinity),
      memberships: { added, expected: BATCH_SIZE * (warmUp.ok + run.ok) },
      cpu: cpuUse,
    };
  } finally {
    await pool.end();
  }
}

/** Runs until `maxBatches` were sent or `durationMs` passed; a batch in flight always finishes. */
async function runBatches(pool: pg.Pool, level: RawSqlLevel, maxBatches: number, durationMs: number): Promise<RawRun> {
  const latenciesMs: number[] = [];
  let sent = 0;
  let ok = 0;
  const startedAt = performance.now();
  const deadline = startedAt + durationMs;
  const worker = async () => {
    while (sent < maxBatches && performance.now() < deadline) {
      sent += 1;
      const { program, first } = level.slots.take();
      const ids = Array.from({ length: BATCH_SIZE }, (_, offset) => level.firstCustomerId + first + offset);
      const membershipIds = ids.map((_, offset) => `R-${first + offset}`);
      const sentAt = performance.now();
      const result = await pool.query(LINK_BATCH, [ORG_ID, program, ids, membershipIds]);
      latenciesMs.push(performance.now() - sentAt);
      if (result.rowCount === BATCH_SIZE) ok += 1;
    }
  };
  await Promise.all(Array.from({ length: level.connections }, worker));
  return { batches: sent, ok, seconds: (performance.now() - startedAt) / 1000, latenciesMs };
}
