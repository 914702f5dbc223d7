import { sql, type Transaction } from 'kysely';
import type { Temporal } from 'temporal-polyfill';
import type { CustomerIdentifiers } from '../../model/customer.js';
import type { Membership } from '../../model/membership.js';
import type { PartnerProgram } from '../../model/program.js';
import { fromDate } from '../instants.js';
import type { Database } from '../schema.js';
import { toMembership, type MembershipRow } from './memberships.repository.js';

/**
 * Memberships whose time has come: the scheduler's reads and locks, one org at a time (on a
 * sharded database each statement then runs on the org's shard alone, where FOR UPDATE can lock). Due customers are locked `FOR UPDATE SKIP LOCKED`: several
 * scheduler instances each take a disjoint set, and none waits on a customer an API request is
 * changing (it is picked up by a later batch). Each candidate branch is read in the order of its
 * partial index and capped, so a batch costs the same whether 10 or 1,000,000 items are due, and
 * the customers are then locked by id (`= any(array(...))`), never by walking the whole table.
 */

export async function lockCustomersWithDueTransitions(
  trx: Transaction<Database>,
  orgId: number,
  now: Temporal.Instant,
  limit: number,
  cap: number,
): Promise<number[]> {
  const at = now.toString();
  const { rows } = await sql<{ id: number }>`
    select c.id from customers c
    where c.org_id = ${orgId} and c.id = any(array(
      (select customer_id from memberships
        where org_id = ${orgId} and state = 'SCHEDULED' and start_at <= ${at}::timestamptz
        order by start_at limit ${cap})
      union
      (select customer_id from memberships
        where org_id = ${orgId} and state in ('SCHEDULED', 'ACTIVE') and end_at <= ${at}::timestamptz
        order by end_at limit ${cap})
      union
      (select customer_id from memberships
        where org_id = ${orgId} and pending_relink_start_at <= ${at}::timestamptz and state = 'EXPIRED'
        order by pending_relink_start_at limit ${cap})))
    order by c.id
    limit ${limit}
    for update of c skip locked`.execute(trx);
  return rows.map((r) => r.id);
}

export async function lockCustomersInExpiredPrograms(
  trx: Transaction<Database>,
  orgId: number,
  now: Temporal.Instant,
  limit: number,
  cap: number,
): Promise<number[]> {
  const at = now.toString();
  const { rows } = await sql<{ id: number }>`
    select c.id from customers c
    where c.org_id = ${orgId} and c.id in (
      select m.customer_id from memberships m
      join partner_programs p on p.org_id = m.org_id and p.id = m.partner_program_id
      where m.org_id = ${orgId} and p.expiry_date <= ${at}::timestamptz
        and (m.state in ('SCHEDULED', 'ACTIVE') or m.pending_relink_start_at is not null)
      limit ${cap})
    order by c.id
    limit ${limit}
    for update of c skip locked`.execute(trx);
  return rows.map((r) => r.id);
}

export interface JobMemberships {
  memberships: Membership[];
  timezones: Map<number, string>;
  /** The customers' identifiers, for the events of what the job changes. */
  customers: Map<number, CustomerIdentifiers>;
  /** What the events say of the memberships' programs (tiers left out: jobs change SUPPLEMENTARY memberships only). */
  programs: Map<number, Pick<PartnerProgram, 'id' | 'name' | 'type' | 'loyaltyProgramId' | 'tiers'>>;
}

/** Every membership of the org's (locked) customers, with the org's timezone and what its events need. */
export async function findMembershipsForJob(
  trx: Transaction<Database>,
  orgId: number,
  customerIds: number[],
): Promise<JobMemberships> {
  if (customerIds.length === 0)
    return { memberships: [], timezones: new Map(), customers: new Map(), programs: new Map() };
  const rows = await trx
    .selectFrom('memberships as m')
    .innerJoin('partner_programs as p', (join) =>
      join.onRef('p.org_id', '=', 'm.org_id').onRef('p.id', '=', 'm.partner_program_id'),
    )
    .innerJoin('orgs as o', 'o.id', 'm.org_id')
    .innerJoin('customers as c', (join) => join.onRef('c.org_id', '=', 'm.org_id').onRef('c.id', '=', 'm.customer_id'))
    .selectAll('m')
    .select([
      'p.loyalty_program_id',
      'p.cycle_unit',
      'p.cycle_value',
      'p.name as program_name',
      'o.timezone',
      'c.mobile',
      'c.email',
      'c.external_id',
    ])
    .where('m.org_id', '=', orgId)
    .where('m.customer_id', '=', sql<number>`any(${customerIds}::bigint[])`)
    // Said of the customers too, so they are looked up by id rather than scanned.
    .where('c.id', '=', sql<number>`any(${customerIds}::bigint[])`)
    .execute();
  return {
    memberships: rows.map((r) => toMembership(r as MembershipRow)),
    timezones: new Map(rows.map((r) => [r.org_id, r.timezone])),
    customers: new Map(
      rows.map((r) => [
        r.customer_id,
        { id: r.customer_id, mobile: r.mobile, email: r.email, externalId: r.external_id },
      ]),
    ),
    programs: new Map(
      rows.map((r) => [
        r.partner_program_id,
        {
          id: r.partner_program_id,
          name: r.program_name,
          type: r.program_type,
          loyaltyProgramId: r.loyalty_program_id,
          tiers: [],
        },
      ]),
    ),
  };
}

/** A reminder just recorded, with what its event needs. */
export interface RecordedReminder {
  membership: Membership;
  daysBefore: number;
  periodEnd: Temporal.Instant;
  /** When it fell due: the period's end less `daysBefore` days. */
  dueAt: Temporal.Instant;
  timezone: string;
  customer: CustomerIdentifiers;
  programName: string;
}

/**
 * Records every expiry reminder that has come due (N days before an open period's end) and not
 * been recorded, up to `limit`, in one statement: the reminder row's primary key makes each
 * (period, N) reminder happen once across all instances; its activity is dated when it fell due.
 * Returns the reminders recorded, with what their events need.
 */
export async function recordDueReminders(
  trx: Transaction<Database>,
  orgId: number,
  now: Temporal.Instant,
  limit: number,
): Promise<RecordedReminder[]> {
  const at = now.toString();
  const { rows } = await sql<
    MembershipRow & {
      days_before: number;
      period_end: Date;
      due_at: Date;
      timezone: string;
      program_name: string;
      mobile: string | null;
      email: string | null;
      external_id: string | null;
    }
  >`
    with due as (
      select m.id, m.org_id, m.end_at, d.days
      from memberships m
      join partner_programs p on p.org_id = m.org_id and p.id = m.partner_program_id
      cross join lateral unnest(p.expiry_reminder_days) as d(days)
      where m.org_id = ${orgId} and m.state = 'ACTIVE'
        and m.end_at > ${at}::timestamptz
        and m.end_at - make_interval(days => d.days) <= ${at}::timestamptz
        and not exists (select 1 from membership_reminders r
                        where r.org_id = ${orgId} and r.membership_id = m.id and r.period_end = m.end_at and r.days_before = d.days)
      order by m.end_at
      limit ${limit}
    ), recorded as (
      insert into membership_reminders (org_id, membership_id, period_end, days_before, recorded_at)
      select ${orgId}::bigint, id, end_at, days, ${at}::timestamptz from due
      on conflict do nothing
      returning membership_id, period_end, days_before, period_end - make_interval(days => days_before) as due_at
    ), activities as (
      insert into membership_activities (org_id, membership_id, activity_type, occurred_at, source, details)
      select ${orgId}::bigint, due.id, 'SUPPLEMENTARY_MEMBERSHIP_EXPIRY_REMINDER', recorded.due_at, 'JOB',
        jsonb_build_object('daysBeforeExpiry', recorded.days_before, 'scheduledExpiryDate', recorded.period_end)
      from recorded join due on due.id = recorded.membership_id and due.days = recorded.days_before
      returning 1
    )
    select m.*, p.loyalty_program_id, p.cycle_unit, p.cycle_value, p.name as program_name, o.timezone,
      c.mobile, c.email, c.external_id, recorded.days_before, recorded.period_end, recorded.due_at
    from recorded
    join memberships m on m.org_id = ${orgId} and m.id = recorded.membership_id
    join partner_programs p on p.org_id = m.org_id and p.id = m.partner_program_id
    join orgs o on o.id = m.org_id
    join customers c on c.org_id = m.org_id and c.id = m.customer_id
    order by recorded.due_at, m.id`.execute(trx);
  return rows.map((r) => ({
    membership: toMembership(r),
    daysBefore: r.days_before,
    periodEnd: fromDate(r.period_end),
    dueAt: fromDate(r.due_at),
    timezone: r.timezone,
    customer: { id: r.customer_id, mobile: r.mobile, email: r.email, externalId: r.external_id },
    programName: r.program_name,
  }));
}
