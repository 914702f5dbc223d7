import type pg from 'pg';
import { partnerProgramId } from './bench-database.js';
import { SEEDED_ACTIVITIES, SUPPLEMENTARY_PROGRAM } from './drain-seed.js';

/** After a drain, per seeded membership: what the activation left, counted in SQL. */
export interface DrainCheck {
  memberships: number;
  /** ACTIVE, no pending relink, period = relink start .. + 12 months (the cycle). */
  activated: number;
  /** Pending relinks still due (any membership). */
  stillDue: number;
  activityMissing: number;
  activityDoubled: number;
  /** One activation activity, but not at the relink's start, or other activities gone or added. */
  activityWrong: number;
  eventMissing: number;
  eventDoubled: number;
  /** One supplementaryMembershipStarted, but not the job's RELINK one for the new period. */
  eventWrong: number;
  /** Rows of the events table, and what the seed, the activations and `otherEvents` account for. */
  events: number;
  expectedEvents: number;
  ok: boolean;
}

/**
 * Each membership's activities and events grouped in one statement (hash aggregates over both
 * tables, no per-row lookups): an activation is one SUPPLEMENTARY_MEMBERSHIP_STARTED (JOB) dated
 * at the relink's start (RELINK_SCHEDULED's details.relinkStart), and one
 * supplementaryMembershipStarted (JOB, no request id, reason RELINK, the new period in its
 * details) dated the same; no other activity changes. The seeded events per customer vary (what
 * the retention keeps), so the other events are checked by their total. Only the SPP_1
 * memberships are checked: the API scenario's links (to other customers) add `otherEvents`.
 */
const CHECK = `
  with m as (
    select id, customer_id, state, start_at, end_at, pending_relink_start_at
    from memberships where partner_program_id = $1
  ), a as (
    select membership_id, count(*) as total,
      count(*) filter (where activity_type = 'SUPPLEMENTARY_MEMBERSHIP_STARTED' and source = 'JOB') as started,
      max(occurred_at) filter (where activity_type = 'SUPPLEMENTARY_MEMBERSHIP_STARTED' and source = 'JOB') as started_at,
      max((details->>'relinkStart')::timestamptz) filter (where activity_type = 'RELINK_SCHEDULED') as relink_at
    from membership_activities group by membership_id
  ), e as (
    select customer_id,
      count(*) filter (where event_name = 'supplementaryMembershipStarted') as started,
      max(created_at) filter (where event_name = 'supplementaryMembershipStarted') as started_at,
      bool_and(source = 'JOB' and api_request_id is null and data::jsonb->>'reason' = 'RELINK')
        filter (where event_name = 'supplementaryMembershipStarted') as started_by_job,
      max((data::jsonb #>> '{customerPartnerProgramDetails,membershipStartDate}')::timestamptz)
        filter (where event_name = 'supplementaryMembershipStarted') as period_start,
      max((data::jsonb #>> '{customerPartnerProgramDetails,membershipEndDate}')::timestamptz)
        filter (where event_name = 'supplementaryMembershipStarted') as period_end
    from events group by customer_id
  )
  select count(*) as memberships,
    count(*) filter (where m.state = 'ACTIVE' and m.pending_relink_start_at is null and m.start_at = a.relink_at
      and m.end_at = a.relink_at + interval '12 months') as activated,
    count(*) filter (where coalesce(a.started, 0) = 0) as activity_missing,
    count(*) filter (where a.started > 1) as activity_doubled,
    count(*) filter (where a.started = 1 and (a.total <> $2 + 1 or a.started_at is distinct from a.relink_at))
      as activity_wrong,
    count(*) filter (where coalesce(e.started, 0) = 0) as event_missing,
    count(*) filter (where e.started > 1) as event_doubled,
    count(*) filter (where e.started = 1 and (e.started_at is distinct from a.relink_at or not e.started_by_job or e.period_start is distinct from m.start_at or e.period_end is distinct from m.end_at))
      as event_wrong
  from m
  left join a on a.membership_id = m.id
  left join e on e.customer_id = m.customer_id`;

const COUNTS = `
  select (select count(*) from memberships where pending_relink_start_at <= now()) as still_due,
    (select count(*) from events) as events`;

/**
 * Checks the drain of the seeded relinks (and the events seeded with them); the session must be
 * in UTC, as the seed's (prepareSession).
 */
export async function verifyDrain(
  client: pg.Client,
  seeded: { relinks: number; events: number },
  otherEvents: number,
): Promise<DrainCheck> {
  const { relinks } = seeded;
  const programId = await partnerProgramId(client, SUPPLEMENTARY_PROGRAM);
  const { rows } = await client.query<Record<string, string>>(CHECK, [programId, SEEDED_ACTIVITIES]);
  const { rows: counts } = await client.query<{ still_due: string; events: string }>(COUNTS);
  const n = (value: string | undefined) => Number(value ?? 0);
  const row = rows[0]!;
  const check = {
    memberships: n(row.memberships),
    activated: n(row.activated),
    stillDue: n(counts[0]!.still_due),
    activityMissing: n(row.activity_missing),
    activityDoubled: n(row.activity_doubled),
    activityWrong: n(row.activity_wrong),
    eventMissing: n(row.event_missing),
    eventDoubled: n(row.event_doubled),
    eventWrong: n(row.event_wrong),
    events: n(counts[0]!.events),
    expectedEvents: seeded.events + relinks + otherEvents,
  };
  const faults = [
    check.stillDue,
    check.activityMissing,
    check.activityDoubled,
    check.activityWrong,
    check.eventMissing,
    check.eventDoubled,
    check.eventWrong,
  ];
  const ok =
    check.memberships === relinks &&
    check.activated === relinks &&
    check.events === check.expectedEvents &&
    faults.every((count) => count === 0);
  return { ...check, ok };
}
