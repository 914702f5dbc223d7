import { sql, type Transaction } from 'kysely';
import type { Temporal } from 'temporal-polyfill';
import type { Membership } from '../../model/membership.js';
import type { DB } from '../database.js';
import type { Database } from '../schema.js';
import { toMembership, type MembershipRow } from './memberships.repository.js';

/**
 * Memberships whose time has come: the scheduler's reads and locks. Due customers are locked `FOR UPDATE SKIP LOCKED`: several
 * scheduler instances each take a disjoint set, and none waits on a customer an API request is
 * changing (it is picked up by a later batch). Each candidate branch is capped so a batch costs
 * the same whether 10 or 100,000 items are due.
 */

export async function lockCustomersWithDueTransitions(
  trx: Transaction<Database>,
  now: Temporal.Instant,
  limit: number,
): Promise<number[]> {
  const at = now.toString();
  const cap = limit * 2;
  const { rows } = await sql<{ id: number }>`
    select c.id from customers c
    where c.id in (
      (select customer_id from memberships where state = 'SCHEDULED' and start_at <= ${at}::timestamptz limit ${cap})
      union
      (select customer_id from memberships where state = 'ACTIVE' and end_at <= ${at}::timestamptz limit ${cap})
      union
      (select customer_id from memberships
        where state = 'EXPIRED' and pending_relink_start_at <= ${at}::timestamptz limit ${cap}))
    order by c.id
    limit ${limit}
    for update of c skip locked`.execute(trx);
  return rows.map((r) => r.id);
}

export async function lockCustomersInExpiredPrograms(
  trx: Transaction<Database>,
  now: Temporal.Instant,
  limit: number,
): Promise<number[]> {
  const at = now.toString();
  const { rows } = await sql<{ id: number }>`
    select c.id from customers c
    where c.id in (
      select m.customer_id from memberships m
      join partner_programs p on p.id = m.partner_program_id
      where p.expiry_date <= ${at}::timestamptz
        and (m.state in ('SCHEDULED', 'ACTIVE') or m.pending_relink_start_at is not null)
      limit ${limit * 2})
    order by c.id
    limit ${limit}
    for update of c skip locked`.execute(trx);
  return rows.map((r) => r.id);
}

export interface JobMemberships {
  memberships: Membership[];
  timezones: Map<number, string>;
}

/** Every membership of the (locked) customers, whatever their org, with each org's timezone. */
export async function findMembershipsForJob(
  trx: Transaction<Database>,
  customerIds: number[],
): Promise<JobMemberships> {
  if (customerIds.length === 0) return { memberships: [], timezones: new Map() };
  const rows = await trx
    .selectFrom('memberships as m')
    .innerJoin('partner_programs as p', 'p.id', 'm.partner_program_id')
    .innerJoin('orgs as o', 'o.id', 'm.org_id')
    .selectAll('m')
    .select(['p.loyalty_program_id', 'p.cycle_unit', 'p.cycle_value', 'o.timezone'])
    .where('m.customer_id', 'in', customerIds)
    .execute();
  return {
    memberships: rows.map((r) => toMembership(r as MembershipRow)),
    timezones: new Map(rows.map((r) => [r.org_id, r.timezone])),
  };
}

/**
 * Records every expiry reminder that has come due (N days before an open period's end) and not
 * been recorded, up to `limit`, in one statement: the reminder row's primary key makes each
 * (period, N) reminder happen once across all instances; its activity is dated when it fell due.
 * Returns how many were recorded.
 */
export async function recordDueReminders(db: DB, now: Temporal.Instant, limit: number): Promise<number> {
  const at = now.toString();
  const { rows } = await sql<{ n: number }>`
    with due as (
      select m.id, m.org_id, m.end_at, d.days
      from memberships m
      join partner_programs p on p.id = m.partner_program_id
      cross join lateral unnest(p.expiry_reminder_days) as d(days)
      where m.state = 'ACTIVE'
        and m.end_at > ${at}::timestamptz
        and m.end_at - make_interval(days => d.days) <= ${at}::timestamptz
        and not exists (select 1 from membership_reminders r
                        where r.membership_id = m.id and r.period_end = m.end_at and r.days_before = d.days)
      order by m.end_at
      limit ${limit}
    ), recorded as (
      insert into membership_reminders (membership_id, period_end, days_before, recorded_at)
      select id, end_at, days, ${at}::timestamptz from due
      on conflict do nothing
      returning membership_id, period_end, days_before
    ), activities as (
      insert into membership_activities (org_id, membership_id, activity_type, occurred_at, source, details)
      select due.org_id, due.id, 'SUPPLEMENTARY_MEMBERSHIP_EXPIRY_REMINDER',
        recorded.period_end - make_interval(days => recorded.days_before), 'JOB',
        jsonb_build_object('daysBeforeExpiry', recorded.days_before, 'scheduledExpiryDate', recorded.period_end)
      from recorded join due on due.id = recorded.membership_id and due.days = recorded.days_before
      returning 1
    )
    select count(*)::int as n from activities`.execute(db);
  return rows[0]?.n ?? 0;
}
