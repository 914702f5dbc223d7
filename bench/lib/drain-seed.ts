import type pg from 'pg';
import { LOYALTY_PROGRAM_ID, ORG_ID, partnerProgramId, seedCustomers } from './bench-database.js';

export const SUPPLEMENTARY_PROGRAM = 'SPP_1';
/** The activities each seeded membership has before its relink activates. */
export const SEEDED_ACTIVITIES = 4;

/**
 * One chunk of due relinks, set-based in one statement, each row as the service would have
 * written it: a customer (mobile `9181` + 8 digits, apart from the fresh customers' `91700`)
 * enrolled in the loyalty program, linked to SPP_1 about 13 months ago
 * (period start = link time, end = start + 12 months), who then scheduled a relink (link policy:
 * a start after the period's end, from within the period), whose period the job expired at its
 * end. The relink's start has come: 1 to 6 minutes before `$5`, spread so that the order the
 * scheduler takes them in (by due instant) is not the table's. History per membership, in order:
 * ENROLLMENT and SUPPLEMENTARY_MEMBERSHIP_STARTED (API, at the start: a started link emits only
 * partnerProgramLinked), RELINK_SCHEDULED (API, details.relinkStart as Instant#toString writes it),
 * SUPPLEMENTARY_MEMBERSHIP_EXPIRED (JOB, at the end), with their events and payloads of the
 * service's shape (SPEC §9.2; keys in jsonb's order). Only the events since `$8` are written:
 * the delivery worker purges older ones (EVENT_RETENTION_DAYS), so a live database holds no more,
 * and a worker purging the seed's would compete with its own drain. The session's time zone
 * must be UTC, the org's: `+ interval '12 months'`, the JSON dates and to_char follow it.
 */
const SEED_CHUNK = `
  with new_customers as (
    insert into customers (org_id, mobile, created_at)
    select $1, '9181' || lpad(c::text, 8, '0'), $5::timestamptz - make_interval(days => 400 + (c % 300)::int, secs => (c % 86400)::int)
    from generate_series($3::bigint, $3::bigint + $4 - 1) as c
    order by c
    returning id, mobile
  ), enrolled as (
    insert into customer_enrolments (org_id, customer_id, loyalty_program_id)
    select $1, id, $2 from new_customers
  ), due as (
    select id as customer_id, mobile, c,
      $5::timestamptz - interval '6 minutes' + make_interval(secs => (c % 300)::int) as relink_at
    from (select id, mobile, substr(mobile, 5)::bigint as c from new_customers) as n
  ), started as (
    select *, relink_at - make_interval(days => 1 + (c % 28)::int, secs => (c % 3600)::int) - interval '12 months' as start_at
    from due
  ), planned as (
    select *, start_at + interval '12 months' as end_at,
      start_at + interval '12 months' - make_interval(days => 2 + (c % 60)::int, secs => (c % 7200)::int) as scheduled_at
    from started
  ), new_memberships as (
    insert into memberships (org_id, customer_id, partner_program_id, program_type, partner_membership_id, state,
      start_at, end_at, pending_relink_start_at, created_at, updated_at)
    select $1, customer_id, $6, 'SUPPLEMENTARY', 'SPP-' || c, 'EXPIRED', start_at, end_at, relink_at, start_at, end_at
    from planned
    order by customer_id
    returning id, customer_id, partner_membership_id, start_at, end_at, pending_relink_start_at
  ), history as (
    select m.id, m.customer_id, p.mobile, m.partner_membership_id, m.start_at, m.end_at, a.*
    from new_memberships m
    join planned p using (customer_id)
    cross join lateral (values
      (1, 'ENROLLMENT', m.start_at, 'API', jsonb_build_object('partnerMembershipId', m.partner_membership_id),
        'partnerProgramLinked', '{}'::jsonb),
      (2, 'SUPPLEMENTARY_MEMBERSHIP_STARTED', m.start_at, 'API', '{}'::jsonb, null, null),
      (3, 'RELINK_SCHEDULED', p.scheduled_at, 'API',
        jsonb_build_object('relinkStart', to_char(m.pending_relink_start_at, 'YYYY-MM-DD"T"HH24:MI:SS"Z"')),
        'partnerProgramRelinkScheduled',
        jsonb_build_object('relinkStartDate', m.pending_relink_start_at, 'rescheduled', false)),
      (4, 'SUPPLEMENTARY_MEMBERSHIP_EXPIRED', m.end_at, 'JOB', '{}'::jsonb,
        'supplementaryMembershipExpired', jsonb_build_object('reason', 'PERIOD_END'))
    ) as a(ord, activity_type, occurred_at, source, details, event_name, extra)
  ), new_activities as (
    insert into membership_activities (org_id, membership_id, activity_type, occurred_at, source, details)
    select $1, id, activity_type, occurred_at, source, details from history order by id, ord
  )
  insert into events (org_id, id, event_name, customer_id, created_at, source, api_request_id, data)
  select $1, gen_random_uuid(), event_name, customer_id, occurred_at, source,
    case when source = 'API' then 'seed-' || id || '-' || ord end,
    (jsonb_build_object(
      'customerIdentifiers', jsonb_build_object('customerId', customer_id,
        'instore', jsonb_build_object('mobile', mobile, 'email', '', 'externalId', '')),
      'entityInformation', jsonb_build_object('entityType', 'USER', 'entityId', customer_id),
      'loyaltyProgramId', $2::bigint, 'partnerProgramId', $6::bigint, 'partnerProgramName', $7::text,
      'partnerProgramType', 'SUPPLEMENTARY',
      'customerPartnerProgramDetails', jsonb_build_object('membershipNumber', partner_membership_id,
        'membershipStartDate', start_at, 'membershipEndDate', end_at, 'membershipExpiryDate', to_char(end_at, 'YYYY-MM-DD'))
    ) || extra)::text
  from history
  where event_name is not null and occurred_at >= $8::timestamptz
  order by id, ord`;

/** Timings of the seed, for the report. */
export interface SeedResult {
  relinks: number;
  freshCustomers: number;
  /** Events written: those of the relinks' histories still within the retention. */
  events: number;
  /** The seeding statements of the relinks (customers, enrolments, memberships, activities, events). */
  relinkSeconds: number;
  relinksPerSecond: number;
  freshSeconds: number;
  vacuumSeconds: number;
  databaseGiB: number;
}

/**
 * Seeds the data set every scenario starts from: `freshCustomers` enrolled and never linked (the
 * API scenario's link load; first, as seedCustomers enrols every customer of the org), then the
 * due relinks in chunks, then `vacuum analyze`. The relinks fall due before `seededAt`; their
 * histories' events are written from `eventsSince` on.
 */
export async function seedDrainData(
  client: pg.Client,
  options: { relinks: number; relinksPerChunk: number; freshCustomers: number; seededAt: Date; eventsSince: Date },
  progress: (message: string) => void,
): Promise<SeedResult> {
  await prepareSession(client);
  const freshStart = performance.now();
  await seedCustomers(client, options.freshCustomers);
  const freshSeconds = (performance.now() - freshStart) / 1000;
  progress(`${options.freshCustomers.toLocaleString('en')} fresh customers in ${freshSeconds.toFixed(1)} s`);

  const programId = await partnerProgramId(client, SUPPLEMENTARY_PROGRAM);
  const relinkStart = performance.now();
  for (let done = 0; done < options.relinks; done += options.relinksPerChunk) {
    const count = Math.min(options.relinksPerChunk, options.relinks - done);
    const chunkStart = performance.now();
    await client.query(SEED_CHUNK, [
      ORG_ID,
      LOYALTY_PROGRAM_ID,
      done,
      count,
      options.seededAt.toISOString(),
      programId,
      SUPPLEMENTARY_PROGRAM,
      options.eventsSince.toISOString(),
    ]);
    const elapsed = (performance.now() - relinkStart) / 1000;
    const rate = (done + count) / elapsed;
    progress(
      `  +${count.toLocaleString('en')} relinks in ${((performance.now() - chunkStart) / 1000).toFixed(1)} s ` +
        `(${(done + count).toLocaleString('en')}/${options.relinks.toLocaleString('en')}, ${rate.toFixed(0)}/s, ` +
        `~${((options.relinks - done - count) / rate).toFixed(0)} s left)`,
    );
  }
  const relinkSeconds = (performance.now() - relinkStart) / 1000;

  // Statistics for the planner and a visibility map for index-only scans (this server may run without autovacuum).
  const vacuumStart = performance.now();
  await client.query('vacuum analyze');
  const vacuumSeconds = (performance.now() - vacuumStart) / 1000;
  const { rows } = await client.query<{ events: string; bytes: string }>(
    'select (select count(*) from events) as events, pg_database_size(current_database()) as bytes',
  );
  return {
    relinks: options.relinks,
    freshCustomers: options.freshCustomers,
    events: Number(rows[0]!.events),
    relinkSeconds,
    relinksPerSecond: options.relinks / relinkSeconds,
    freshSeconds,
    vacuumSeconds,
    databaseGiB: Number(rows[0]!.bytes) / 2 ** 30,
  };
}

/**
 * This session only: the org's time zone (the seed's dates follow it), and room for the seed's
 * sorts and hash joins; no JIT, which the statement's overestimated cost would start for nothing.
 */
export async function prepareSession(client: pg.Client): Promise<void> {
  await client.query(`set timezone = 'UTC'`);
  await client.query(`set work_mem = '256MB'`);
  await client.query(`set maintenance_work_mem = '512MB'`);
  await client.query('set jit = off');
}
