import { sql } from 'kysely';
import type { Temporal } from 'temporal-polyfill';
import type { DeliveryStatus, EventName, EventSource, StoredEvent } from '../../model/event.js';
import type { DB } from '../database.js';
import { fromDate } from '../instants.js';
import { acrossShards } from '../shards.js';

/**
 * The deliveries as a work queue (SPEC §9.4): claim what is due under a lease, record finished
 * attempts, forget what is past retention. Each method is one statement, so a claim is one short
 * transaction and a flush of many finished attempts one more.
 */

export interface ClaimRequest {
  /** The org whose deliveries are claimed: one statement, one org (one shard when sharded). */
  orgId: number;
  /** Service-clock now: deliveries due at or before it are taken. */
  now: Temporal.Instant;
  /** At most this many in all (the worker's free slots). */
  limit: number;
  /** At most this many per subscription, less what `busy` says is in flight for it already. */
  perSubscription: number;
  /** Subscription id → attempts this process has in flight for it. */
  busy: ReadonlyMap<number, number>;
  /** Subscriptions are served in id order starting after this one, so every one gets its turn. */
  afterSubscriptionId: number;
  /** The lease, on real time (the database's clock_timestamp()). */
  leaseMs: number;
}

/** A delivery this worker holds the lease of, with what sending it needs. */
export interface LeasedDelivery {
  orgId: number;
  subscriptionId: number;
  eventSeq: number;
  leaseToken: string;
  /** Attempts so far, ever and in the current schedule. */
  attempts: number;
  scheduleAttempts: number;
  url: string;
  secretSealed: string;
  headersSealed: string;
  event: StoredEvent;
}

interface LeasedRow {
  org_id: number;
  subscription_id: number;
  event_seq: number;
  lease_token: string;
  attempts: number;
  schedule_attempts: number;
  url: string;
  secret_sealed: string;
  headers_sealed: string;
  id: string;
  event_name: string;
  customer_id: number | null;
  created_at: Date;
  source: EventSource;
  api_request_id: string | null;
  data: string;
}

/**
 * Leases due deliveries of active subscriptions (an inactive one's wait for it), fairly: a
 * lateral subquery per subscription walks `deliveries_due` and takes at most its share, so one
 * subscription's backlog never fills the batch; the outer limit stops at the free slots, starting
 * after the subscription served last. Rows another worker is claiming are skipped (SKIP LOCKED);
 * rows another worker holds the lease of are skipped until the lease runs out.
 */
export async function claimDueDeliveries(db: DB, request: ClaimRequest): Promise<LeasedDelivery[]> {
  const busy = JSON.stringify([...request.busy].map(([subscription_id, n]) => ({ subscription_id, n })));
  const { rows } = await sql<LeasedRow>`
    with busy as (
      select * from jsonb_to_recordset(${busy}::jsonb) as b(subscription_id bigint, n int)
    ), picked as (
      -- The lease is made here, not in the update: a sharded database's updates take no volatile functions.
      select s.org_id, s.id as subscription_id, d.event_seq, s.url, s.secret_sealed, s.headers_sealed,
        clock_timestamp() + ${request.leaseMs}::int * interval '1 millisecond' as leased_until,
        gen_random_uuid() as lease_token
      from (
        select s.org_id, s.id, s.url, s.secret_sealed, s.headers_sealed,
          greatest(0, ${request.perSubscription}::int - coalesce(b.n, 0)) as room
        from webhook_subscriptions s
        left join busy b on b.subscription_id = s.id
        where s.org_id = ${request.orgId} and s.active
        order by s.id <= ${request.afterSubscriptionId}::bigint, s.id
      ) s
      cross join lateral (
        select d.event_seq from deliveries d
        where d.org_id = ${request.orgId} and d.subscription_id = s.id and d.status = 'PENDING'
          and d.next_attempt_at <= ${request.now.toString()}::timestamptz
          and (d.leased_until is null or d.leased_until < clock_timestamp())
        order by d.next_attempt_at
        limit s.room
        for update of d skip locked
      ) d
      limit ${request.limit}::int
    ), leased as (
      update deliveries d
      set leased_until = p.leased_until, lease_token = p.lease_token
      from picked p
      where d.org_id = ${request.orgId} and d.org_id = p.org_id and d.subscription_id = p.subscription_id and d.event_seq = p.event_seq
      returning d.org_id, d.subscription_id, d.event_seq, d.lease_token, d.attempts, d.schedule_attempts,
        p.url, p.secret_sealed, p.headers_sealed
    )
    select l.*, e.id, e.event_name, e.customer_id, e.created_at, e.source, e.api_request_id, e.data
    from leased l
    join events e on e.org_id = ${request.orgId} and e.org_id = l.org_id and e.seq = l.event_seq`.execute(db);
  return rows.map(toLeasedDelivery);
}

function toLeasedDelivery(row: LeasedRow): LeasedDelivery {
  return {
    orgId: row.org_id,
    subscriptionId: row.subscription_id,
    eventSeq: row.event_seq,
    leaseToken: row.lease_token,
    attempts: row.attempts,
    scheduleAttempts: row.schedule_attempts,
    url: row.url,
    secretSealed: row.secret_sealed,
    headersSealed: row.headers_sealed,
    event: {
      seq: row.event_seq,
      id: row.id,
      orgId: row.org_id,
      name: row.event_name as EventName,
      customerId: row.customer_id,
      createdAt: fromDate(row.created_at),
      source: row.source,
      apiRequestId: row.api_request_id,
      data: row.data,
    },
  };
}

/** A finished attempt of a leased delivery, and what it makes of the delivery. */
export interface FinishedAttempt {
  orgId: number;
  subscriptionId: number;
  eventSeq: number;
  leaseToken: string;
  /** Real time, as the attempt log keeps it. */
  startedAt: Temporal.Instant;
  durationMs: number;
  responseStatus: number | null;
  error: string | null;
  /** When the attempt ended, on the service clock. */
  endedAt: Temporal.Instant;
  status: DeliveryStatus;
  nextAttemptAt: Temporal.Instant | null;
}

/**
 * Writes finished attempts of one org in one statement: each delivery whose lease is still this attempt's
 * (a lease that ran out and was taken over is the new holder's to record) and its attempt row.
 * The deliveries are found through the small index of leased rows, not by joining the whole table.
 * Returns how many were recorded.
 */
export async function recordFinishedAttempts(
  db: DB,
  orgId: number,
  attempts: readonly FinishedAttempt[],
): Promise<number> {
  if (attempts.length === 0) return 0;
  const input = JSON.stringify(
    attempts.map((a) => ({
      org_id: a.orgId,
      subscription_id: a.subscriptionId,
      event_seq: a.eventSeq,
      lease_token: a.leaseToken,
      // Instants as epoch milliseconds: formatting thousands of ISO strings a second showed in profiles.
      started_at_ms: a.startedAt.epochMilliseconds,
      duration_ms: a.durationMs,
      response_status: a.responseStatus,
      error: a.error,
      ended_at_ms: a.endedAt.epochMilliseconds,
      status: a.status,
      next_attempt_at_ms: a.nextAttemptAt?.epochMilliseconds ?? null,
    })),
  );
  const { rows } = await sql<{ n: number }>`
    with r as (
      select org_id, subscription_id, event_seq, lease_token, to_timestamp(started_at_ms / 1000.0) as started_at,
        duration_ms, response_status, error, to_timestamp(ended_at_ms / 1000.0) as ended_at, status,
        to_timestamp(next_attempt_at_ms / 1000.0) as next_attempt_at
      from jsonb_to_recordset(${input}::jsonb) as r(
        org_id bigint, subscription_id bigint, event_seq bigint, lease_token uuid, started_at_ms bigint,
        duration_ms int, response_status int, error text, ended_at_ms bigint, status text,
        next_attempt_at_ms bigint)
    ), updated as (
      update deliveries d
      set status = r.status,
        attempts = d.attempts + 1,
        schedule_attempts = d.schedule_attempts + 1,
        next_attempt_at = r.next_attempt_at,
        last_attempt_at = r.ended_at,
        last_response_status = r.response_status,
        last_error = r.error,
        succeeded_at = case when r.status = 'SUCCEEDED' then r.ended_at else d.succeeded_at end,
        leased_until = null,
        lease_token = null
      from r
      where d.org_id = ${orgId} and d.lease_token = any(${attempts.map((a) => a.leaseToken)}::uuid[])
        and d.org_id = r.org_id and d.subscription_id = r.subscription_id and d.event_seq = r.event_seq
        and d.lease_token = r.lease_token
      returning d.org_id, d.subscription_id, d.event_seq, d.attempts, r.started_at, r.duration_ms,
        r.response_status, r.error
    ), logged as (
      insert into delivery_attempts
        (org_id, subscription_id, event_seq, attempt, started_at, duration_ms, response_status, error)
      select ${orgId}::bigint, subscription_id, event_seq, attempts, started_at, duration_ms, response_status, error
      from updated
      on conflict do nothing
    )
    select count(*)::int as n from updated`.execute(db);
  return rows[0]?.n ?? 0;
}

/** Gives leases back unattempted (a worker stopping mid-send), so any worker may take them now. Spans orgs. */
export async function releaseLeases(db: DB, leaseTokens: readonly string[]): Promise<void> {
  if (leaseTokens.length === 0) return;
  await acrossShards(db, (trx) =>
    sql`update deliveries set leased_until = null, lease_token = null
      where lease_token = any(${[...leaseTokens]}::uuid[])`.execute(trx),
  );
}

/** The orgs with an active webhook subscription, in id order. Spans orgs. */
export async function orgsWithActiveSubscriptions(db: DB): Promise<number[]> {
  const { rows } = await acrossShards(db, (trx) =>
    sql<{ org_id: number }>`select distinct org_id from webhook_subscriptions where active order by org_id`.execute(
      trx,
    ),
  );
  return rows.map((r) => r.org_id);
}

/**
 * The earliest service-clock instant at which a delivery of an active subscription that nobody
 * holds falls due (one index probe per subscription), or null when none is pending. Spans orgs.
 */
export async function earliestPendingAttempt(db: DB): Promise<Temporal.Instant | null> {
  const { rows } = await acrossShards(db, (trx) =>
    sql<{ at: Date | null }>`
    select min(d.next_attempt_at) as at
    from webhook_subscriptions s
    cross join lateral (
      select next_attempt_at from deliveries d
      where d.subscription_id = s.id and d.org_id = s.org_id and d.status = 'PENDING'
        and (d.leased_until is null or d.leased_until < clock_timestamp())
      order by next_attempt_at
      limit 1
    ) d
    where s.active`.execute(trx),
  );
  const at = rows[0]?.at;
  return at ? fromDate(at) : null;
}

/** Deletes up to `limit` finished (SUCCEEDED or FAILED) deliveries of events created before `cutoff`. */
export async function deleteFinishedDeliveries(
  db: DB,
  orgId: number,
  cutoff: Temporal.Instant,
  limit: number,
): Promise<number> {
  const result = await sql`
    delete from deliveries d
    using (
      select subscription_id, event_seq from deliveries
      where org_id = ${orgId} and status <> 'PENDING' and event_created_at < ${cutoff.toString()}::timestamptz
      limit ${limit}::int
    ) old
    where d.org_id = ${orgId} and d.subscription_id = old.subscription_id and d.event_seq = old.event_seq`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

/** Deletes up to `limit` events created before `cutoff` that no PENDING delivery still needs. */
export async function deleteEventsWithoutPendingDeliveries(
  db: DB,
  orgId: number,
  cutoff: Temporal.Instant,
  limit: number,
): Promise<number> {
  const result = await sql`
    delete from events e
    using (
      select seq from events x
      where x.org_id = ${orgId} and x.created_at < ${cutoff.toString()}::timestamptz
        and not exists (select 1 from deliveries d
                        where d.org_id = ${orgId} and d.event_seq = x.seq and d.status = 'PENDING')
      limit ${limit}::int
    ) old
    where e.org_id = ${orgId} and e.seq = old.seq`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

/** The fingerprints of the keys that sealed the stored webhook secrets. Spans orgs. */
export async function sealingKeyFingerprints(db: DB): Promise<string[]> {
  const rows = await acrossShards(db, (trx) =>
    trx.selectFrom('webhook_subscriptions').select('key_fingerprint').distinct().execute(),
  );
  return rows.map((r) => r.key_fingerprint);
}
