import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import type { Temporal } from 'temporal-polyfill';
import type { NewEvent } from '../../model/event.js';
import type { Database } from '../schema.js';

/** The channel a delivery worker listens on: a statement that creates deliveries notifies it at commit. */
export const DELIVERIES_CHANNEL = 'webhook_deliveries';

/** The events as one jsonb parameter, in creation order. */
export function eventsParameter(events: readonly NewEvent[]): string {
  return JSON.stringify(
    events.map((e, ord) => ({
      ord,
      id: e.id,
      event_name: e.name,
      customer_id: e.customerId,
      created_at: new Date(e.createdAt.epochMilliseconds).toISOString(),
      source: e.source,
      api_request_id: e.apiRequestId,
      data: e.data,
    })),
  );
}

/**
 * The outbox's part of a write (SPEC §9), as CTEs to put after the change's own in one statement:
 * `new_events` inserts the events in the order given (so `seq` follows the changes), and
 * `new_deliveries` gives each one delivery per active subscription of its org that names it (or
 * `*`), due at `at`. The statement ends with `outboxCreated`, and the caller then wakes the
 * delivery workers (`notifyIfDelivering`) when it created any delivery.
 */
export function outboxCtes(orgId: number, events: string, at: string): RawBuilder<unknown> {
  return sql`new_events as (
      insert into events (org_id, id, event_name, customer_id, created_at, source, api_request_id, data)
      select ${orgId}::bigint, id, event_name, customer_id, created_at, source, api_request_id, data
      from jsonb_to_recordset(${events}::jsonb) as e(ord integer, id uuid, event_name text,
        customer_id bigint, created_at timestamptz, source text, api_request_id text, data text)
      order by ord
      returning org_id, seq, id, event_name, created_at
    ), new_deliveries as (
      insert into deliveries (org_id, subscription_id, event_seq, event_id, event_name, event_created_at, next_attempt_at)
      select e.org_id, s.id, e.seq, e.id, e.event_name, e.created_at, ${at}::timestamptz
      from new_events e
      join webhook_subscriptions s on s.org_id = ${orgId}::bigint and s.active
        and (e.event_name = any(s.events) or '*' = any(s.events))
      returning 1
    )`;
}

/** The statement's answer: whether it created a delivery. */
export const outboxCreated = sql`select exists (select 1 from new_deliveries) as created`;

/**
 * Wakes the delivery workers at commit, when the write created deliveries. A statement of its
 * own, on the connection the service holds: inside a write that Citus sends whole to the org's
 * worker node, NOTIFY would be raised there, where no delivery worker listens.
 */
export async function notifyIfDelivering(
  trx: Transaction<Database>,
  result: { rows: Array<{ created: boolean }> },
): Promise<void> {
  if (result.rows[0]?.created) await notifyDeliveryWorkers(trx);
}

export async function notifyDeliveryWorkers(db: Transaction<Database> | Kysely<Database>): Promise<void> {
  await sql`select pg_notify(${sql.lit(DELIVERIES_CHANNEL)}, '')`.execute(db);
}

/** Writes events alone (a change written by another statement of the same transaction). */
export async function insertEvents(
  trx: Transaction<Database>,
  orgId: number,
  now: Temporal.Instant,
  events: readonly NewEvent[],
): Promise<void> {
  if (events.length === 0) return;
  const at = new Date(now.epochMilliseconds).toISOString();
  const result = await sql<{ created: boolean }>`with ${outboxCtes(orgId, eventsParameter(events), at)}
    ${outboxCreated}`.execute(trx);
  await notifyIfDelivering(trx, result);
}
