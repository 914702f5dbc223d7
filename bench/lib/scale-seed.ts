import type pg from 'pg';
import { countMemberships, LOYALTY_PROGRAM_ID, ORG_ID, partnerProgramId } from './bench-database.js';
import { HTTP_PROGRAMS, RAW_SQL_PROGRAMS } from './service.js';

/** Every EXTERNAL program the bench declares; the seeded memberships are spread over all six. */
export const EXTERNAL_PROGRAMS = [...HTTP_PROGRAMS, ...RAW_SQL_PROGRAMS];
export const SUPPLEMENTARY_PROGRAM = 'SPP_1';
/** The EXTERNAL programs' tiers, by number, as bench/lib/service.ts declares them (checked at start). */
export const TIERS = ['Silver', 'Gold'] as const;
/** Seeded customers have two memberships each: one EXTERNAL, one SUPPLEMENTARY. */
export const MEMBERSHIPS_PER_CUSTOMER = 2;
/** The fresh customers' mobiles are mobileOf's (`91700` + 7 digits): room for this many. */
const MAX_FRESH_CUSTOMERS = 10_000_000;

/** The mobile of seeded customer `index`: `9180` + 8 digits, apart from the fresh customers' `91700` (mobileOf). */
export function memberMobileOf(index: number): string {
  return `9180${String(index).padStart(8, '0')}`;
}

/**
 * One chunk of seeded customers, set-based in one statement: the customers and their
 * enrolments; per customer an EXTERNAL membership (program by index, tier 1 or 2, LINKED) and an
 * SPP_1 membership with a 12-month period (ACTIVE, every tenth EXPIRED); per membership the
 * activities the service would have recorded (ENROLLMENT, then UPGRADE or UPDATE, or
 * SUPPLEMENTARY_MEMBERSHIP_STARTED, and the expiry by the job) and the events those emit, with
 * payloads of the service's shape. Dates are spread over the last two years, all in the past.
 * Foreign keys and unique constraints are checked as for any insert.
 */
const SEED_CHUNK = `
  with new_customers as (
    insert into customers (org_id, mobile, created_at)
    select $1, '9180' || lpad(c::text, 8, '0'), now() - make_interval(days => 700 + (c % 300)::int, secs => c % 86400)
    from generate_series($3::bigint, $3::bigint + $4 - 1) as c
    order by c
    returning id, mobile
  ), enrolled as (
    insert into customer_enrolments (org_id, customer_id, loyalty_program_id)
    select $1, id, $2 from new_customers
  ), member as (
    select id as customer_id, mobile, substr(mobile, 5)::bigint as c from new_customers
  ), external_plan as (
    select customer_id, c, ($5::bigint[])[1 + c % cardinality($5::bigint[])] as program_id,
      1 + (c / cardinality($5::bigint[])) % 2 as tier_number,
      now() - make_interval(days => 30 + (c % 600)::int, secs => c % 86400) as created_at
    from member
  ), supplementary_plan as (
    select customer_id, c, c % 10 = 9 as expired,
      case when c % 10 = 9 then now() - make_interval(days => 370 + (c % 300)::int, secs => c % 86400)
           else now() - make_interval(days => (c % 360)::int, secs => c % 86400) end as start_at
    from member
  ), new_memberships as (
    insert into memberships (org_id, customer_id, partner_program_id, program_type, partner_membership_id, state,
      tier_number, tier_expiry_at, start_at, end_at, created_at, updated_at)
    select $1, customer_id, program_id, program_type, membership_id, state, tier_number, tier_expiry_at,
      start_at, end_at, created_at, updated_at
    from (
      select customer_id, program_id, 'EXTERNAL' as program_type, 'S-' || c as membership_id, 'LINKED' as state,
        tier_number::int, case when tier_number = 2 then created_at + interval '2 years' end as tier_expiry_at,
        created_at as start_at, null::timestamptz as end_at, created_at, created_at + interval '29 days' as updated_at
      from external_plan
      union all
      select customer_id, $6::bigint, 'SUPPLEMENTARY', 'SPP-' || c, case when expired then 'EXPIRED' else 'ACTIVE' end,
        null::int, null::timestamptz, start_at, start_at + interval '12 months', start_at,
        case when expired then start_at + interval '12 months' else start_at end
      from supplementary_plan
    ) as planned
    order by customer_id, program_type
    returning id, customer_id, partner_program_id, program_type, partner_membership_id, state, tier_number,
      tier_expiry_at, start_at, end_at, created_at, updated_at
  ), new_activities as (
    insert into membership_activities (org_id, membership_id, activity_type, occurred_at, source, details)
    select $1, m.id, a.activity_type, a.occurred_at, a.source, a.details
    from new_memberships m
    cross join lateral (values
      (1, 'ENROLLMENT', m.created_at, 'API', case when m.program_type = 'EXTERNAL'
        then jsonb_build_object('partnerMembershipId', m.partner_membership_id, 'tierNumber', 1)
        else jsonb_build_object('partnerMembershipId', m.partner_membership_id) end),
      (2, case when m.program_type = 'SUPPLEMENTARY' then 'SUPPLEMENTARY_MEMBERSHIP_STARTED'
               when m.tier_number = 2 then 'UPGRADE' else 'UPDATE' end,
        case when m.program_type = 'SUPPLEMENTARY' then m.start_at else m.updated_at end, 'API',
        case when m.program_type = 'EXTERNAL' then jsonb_build_object('previousTierNumber', 1,
          'tierNumber', m.tier_number, 'previousTierExpiryDate', null, 'tierExpiryDate', m.tier_expiry_at)
        else '{}'::jsonb end),
      (3, case when m.state = 'EXPIRED' then 'SUPPLEMENTARY_MEMBERSHIP_EXPIRED' end, m.end_at, 'JOB', '{}'::jsonb)
    ) as a(ord, activity_type, occurred_at, source, details)
    where a.activity_type is not null
    order by m.id, a.ord
    returning membership_id, activity_type, occurred_at, source
  )
  insert into events (org_id, id, event_name, customer_id, created_at, source, api_request_id, data)
  select $1, gen_random_uuid(), e.event_name, m.customer_id, a.occurred_at, a.source,
    case when a.source = 'API' then 'seed-' || m.id || '-' || a.activity_type end,
    json_build_object(
      'customerIdentifiers', json_build_object('customerId', m.customer_id,
        'instore', json_build_object('mobile', c.mobile, 'email', '', 'externalId', '')),
      'entityInformation', json_build_object('entityType', 'USER', 'entityId', m.customer_id),
      'loyaltyProgramId', $2::bigint, 'partnerProgramId', m.partner_program_id, 'partnerProgramName', p.name,
      'partnerProgramType', m.program_type,
      'customerPartnerProgramDetails', json_build_object('membershipNumber', m.partner_membership_id,
        'partnerTierNumber', m.tier_number, 'partnerTierName', t.name, 'partnerTierExpiryDate', m.tier_expiry_at,
        'membershipStartDate', m.start_at, 'membershipEndDate', m.end_at)
    )::text
  from new_activities a
  join new_memberships m on m.id = a.membership_id
  join member c on c.customer_id = m.customer_id
  join partner_programs p on p.id = m.partner_program_id
  left join partner_program_tiers t on t.partner_program_id = m.partner_program_id and t.number = m.tier_number
  cross join lateral (select case a.activity_type
      when 'ENROLLMENT' then 'partnerProgramLinked'
      when 'UPGRADE' then 'partnerProgramUpdated'
      when 'UPDATE' then 'partnerProgramUpdated'
      when 'SUPPLEMENTARY_MEMBERSHIP_EXPIRED' then 'supplementaryMembershipExpired' end as event_name) as e
  where e.event_name is not null`;

/** Customers enrolled in the loyalty program and never linked: the link measurement's own. */
const SEED_FRESH = `
  with new_customers as (
    insert into customers (org_id, mobile, created_at)
    select $1, '91700' || lpad(f::text, 7, '0'), now() - make_interval(days => (f % 300)::int)
    from generate_series($3::bigint, $3::bigint + $4 - 1) as f
    order by f
    returning id
  )
  insert into customer_enrolments (org_id, customer_id, loyalty_program_id)
  select $1, id, $2 from new_customers`;

/** Timings of one growth step, for the report and the README's prediction. */
export interface Growth {
  /** Memberships before and after (the previous sizes' link runs included). */
  membershipsBefore: number;
  membershipsAfter: number;
  seededCustomers: number;
  freshCustomersAdded: number;
  /** The seeding statements (customers, enrolments, memberships, activities, events). */
  seedSeconds: number;
  /** Memberships per second of those statements, with their share of the other rows. */
  membershipsPerSecond: number | undefined;
  freshSeconds: number;
  vacuumSeconds: number;
}

export interface TableSizes {
  rows: Record<string, number>;
  databaseGiB: number;
}

/** A membership to update or delink: who, in which program, at which tier now. */
export interface LinkedMembership {
  mobile: string;
  program: string;
  tier: string;
}

/**
 * The data set as it grows: seeded customers are indexed 0, 1, 2, ... (memberMobileOf), fresh
 * customers 0, 1, 2, ... too (mobileOf); the bench hands out fresh ones in order and never twice.
 */
export class ScaleDataSet {
  seededCustomers = 0;
  freshCustomers = 0;
  private freshTaken = 0;

  private constructor(
    private readonly client: pg.Client,
    private readonly externalProgramIds: number[],
    private readonly supplementaryProgramId: number,
    private readonly membershipsPerChunk: number,
  ) {}

  static async open(client: pg.Client, membershipsPerChunk: number): Promise<ScaleDataSet> {
    const externalIds: number[] = [];
    for (const name of EXTERNAL_PROGRAMS) externalIds.push(await partnerProgramId(client, name));
    await checkTiers(client, externalIds);
    // This session only, the service's are untouched: bigger sorts and hash joins stay in memory,
    // and no JIT, which the seed statement's (wildly overestimated) cost would trigger every time
    // for nothing: 50,000 customers took 9.0 s with it, 7.9 s without.
    await client.query(`set work_mem = '256MB'`);
    await client.query(`set maintenance_work_mem = '512MB'`);
    await client.query('set jit = off');
    const supplementaryId = await partnerProgramId(client, SUPPLEMENTARY_PROGRAM);
    return new ScaleDataSet(client, externalIds, supplementaryId, membershipsPerChunk);
  }

  get freshLeft(): number {
    return this.freshCustomers - this.freshTaken;
  }

  /** The next `count` fresh customers' indices (mobileOf), or undefined when too few are left. */
  takeFresh(count: number): number | undefined {
    if (this.freshLeft < count) return undefined;
    const first = this.freshTaken;
    this.freshTaken += count;
    return first;
  }

  /**
   * Adds seeded customers until the memberships reach `target` (to within one: customers come
   * with two), tops the fresh customers up to `freshWanted` unused, then `vacuum analyze`.
   */
  async growTo(target: number, freshWanted: number, progress: (message: string) => void): Promise<Growth> {
    const membershipsBefore = await countMemberships(this.client);
    const customersToAdd = Math.max(0, Math.ceil((target - membershipsBefore) / MEMBERSHIPS_PER_CUSTOMER));
    const perChunk = this.membershipsPerChunk / MEMBERSHIPS_PER_CUSTOMER;
    const seedStart = performance.now();
    for (let done = 0; done < customersToAdd; done += perChunk) {
      const count = Math.min(perChunk, customersToAdd - done);
      const chunkStart = performance.now();
      await this.client.query(SEED_CHUNK, [
        ORG_ID,
        LOYALTY_PROGRAM_ID,
        this.seededCustomers,
        count,
        this.externalProgramIds,
        this.supplementaryProgramId,
      ]);
      this.seededCustomers += count;
      const elapsed = (performance.now() - seedStart) / 1000;
      const rate = ((done + count) * MEMBERSHIPS_PER_CUSTOMER) / elapsed;
      const left = ((customersToAdd - done - count) * MEMBERSHIPS_PER_CUSTOMER) / rate;
      progress(
        `  +${(count * MEMBERSHIPS_PER_CUSTOMER).toLocaleString('en')} memberships in ` +
          `${((performance.now() - chunkStart) / 1000).toFixed(1)} s (${done + count}/${customersToAdd} customers, ` +
          `${rate.toFixed(0)} memberships/s, ~${left.toFixed(0)} s left)`,
      );
    }
    const seedSeconds = (performance.now() - seedStart) / 1000;

    const freshStart = performance.now();
    const freshToAdd = Math.max(0, freshWanted - this.freshLeft);
    if (this.freshCustomers + freshToAdd > MAX_FRESH_CUSTOMERS)
      throw new Error(`more than ${MAX_FRESH_CUSTOMERS} fresh customers would be needed: lower BENCH_SCALE_FRESH`);
    if (freshToAdd > 0) {
      await this.client.query(SEED_FRESH, [ORG_ID, LOYALTY_PROGRAM_ID, this.freshCustomers, freshToAdd]);
      this.freshCustomers += freshToAdd;
    }
    const freshSeconds = (performance.now() - freshStart) / 1000;

    // Statistics for the planner and a visibility map for index-only scans (this server may run without autovacuum).
    const vacuumStart = performance.now();
    await this.client.query('vacuum analyze');
    const vacuumSeconds = (performance.now() - vacuumStart) / 1000;
    const membershipsAfter = await countMemberships(this.client);
    return {
      membershipsBefore,
      membershipsAfter,
      seededCustomers: customersToAdd,
      freshCustomersAdded: freshToAdd,
      seedSeconds,
      membershipsPerSecond: customersToAdd > 0 ? (customersToAdd * MEMBERSHIPS_PER_CUSTOMER) / seedSeconds : undefined,
      freshSeconds,
      vacuumSeconds,
    };
  }

  /**
   * Up to `count` LINKED EXTERNAL memberships picked at random over the whole table (a full scan:
   * not timed). Called after a link run, it includes what that run linked.
   */
  async randomLinked(count: number): Promise<LinkedMembership[]> {
    const { rows } = await this.client.query<LinkedMembership>(
      `select c.mobile, p.name as program, t.name as tier
       from (select customer_id, partner_program_id, tier_number from memberships
             where org_id = $1 and program_type = 'EXTERNAL' and state = 'LINKED'
             order by random() limit $2) as m
       join customers c on c.id = m.customer_id
       join partner_programs p on p.id = m.partner_program_id
       join partner_program_tiers t on t.partner_program_id = m.partner_program_id and t.number = m.tier_number`,
      [ORG_ID, count],
    );
    return rows;
  }

  /** Row counts as the last `vacuum analyze` left them (reltuples), and the database's size. */
  async sizes(): Promise<TableSizes> {
    const tables = ['customers', 'memberships', 'membership_activities', 'events'];
    const { rows } = await this.client.query<{ relname: string; reltuples: number }>(
      `select relname, reltuples from pg_class where relname = any($1::text[]) and relkind = 'r'`,
      [tables],
    );
    const { rows: size } = await this.client.query<{ bytes: string }>(
      'select pg_database_size(current_database()) as bytes',
    );
    return {
      rows: Object.fromEntries(rows.map((r) => [r.relname, Math.round(Number(r.reltuples))])),
      databaseGiB: Number(size[0]!.bytes) / 2 ** 30,
    };
  }
}

/** The seed numbers tiers as TIERS does; a changed declaration should fail here, not mid-seed. */
async function checkTiers(client: pg.Client, programIds: number[]): Promise<void> {
  const { rows } = await client.query<{ partner_program_id: string; number: number; name: string }>(
    'select partner_program_id, number, name from partner_program_tiers where partner_program_id = any($1::bigint[])',
    [programIds],
  );
  const expected = programIds.length * TIERS.length;
  const matching = rows.filter((r) => TIERS[r.number - 1] === r.name).length;
  if (rows.length !== expected || matching !== expected)
    throw new Error(`the EXTERNAL programs' tiers are not ${TIERS.join(', ')} (numbered from 1)`);
}
