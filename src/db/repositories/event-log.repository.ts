import type { Temporal } from 'temporal-polyfill';
import type { DeliveryStatus, EventName, StoredEvent } from '../../model/event.js';
import type { DB } from '../database.js';
import { fromDate, fromDateOrNull, toDate } from '../instants.js';
import { acrossShards } from '../shards.js';
import { notifyDeliveryWorkers } from './outbox.repository.js';

/**
 * The event log and the deliveries as the admin API reads them (SPEC §9.3): newest first by the
 * event's instant and, within one transaction, the reverse of creation order, one page at a
 * time after a key (keyset pagination on the `events_log` and `deliveries_log` indexes).
 */

/** Where a page starts: after the row of this key in the listing's order. */
export interface PageKey {
  createdAt: Temporal.Instant;
  seq: number;
}

export interface Page {
  after?: PageKey;
  limit: number;
}

export interface EventFilter {
  customerId?: number;
  eventName?: EventName;
}

export async function listEvents(db: DB, orgId: number, filter: EventFilter, page: Page): Promise<StoredEvent[]> {
  let query = db
    .selectFrom('events')
    .select([
      'seq',
      'id',
      'org_id as orgId',
      'event_name as name',
      'customer_id as customerId',
      'created_at as createdAt',
      'source',
      'api_request_id as apiRequestId',
      'data',
    ])
    .where('org_id', '=', orgId);
  if (filter.customerId !== undefined) query = query.where('customer_id', '=', filter.customerId);
  if (filter.eventName !== undefined) query = query.where('event_name', '=', filter.eventName);
  const { after } = page;
  if (after) {
    query = query.where((eb) =>
      eb(eb.refTuple('created_at', 'seq'), '<', eb.tuple(toDate(after.createdAt), after.seq)),
    );
  }
  const rows = await query.orderBy('created_at', 'desc').orderBy('seq', 'desc').limit(page.limit).execute();
  return rows.map((row) => ({ ...row, name: row.name as EventName, createdAt: fromDate(row.createdAt) }));
}

/** A delivery of one event to one subscription; instants on the service clock. */
export interface DeliveryRecord {
  eventSeq: number;
  eventId: string;
  eventName: EventName;
  eventCreatedAt: Temporal.Instant;
  status: DeliveryStatus;
  attempts: number;
  lastAttemptAt: Temporal.Instant | null;
  lastResponseStatus: number | null;
  lastError: string | null;
  nextAttemptAt: Temporal.Instant | null;
  succeededAt: Temporal.Instant | null;
}

const deliveryColumns = [
  'event_seq',
  'event_id',
  'event_name',
  'event_created_at',
  'status',
  'attempts',
  'last_attempt_at',
  'last_response_status',
  'last_error',
  'next_attempt_at',
  'succeeded_at',
] as const;

interface DeliveryRow {
  event_seq: number;
  event_id: string;
  event_name: string;
  event_created_at: Date;
  status: DeliveryStatus;
  attempts: number;
  last_attempt_at: Date | null;
  last_response_status: number | null;
  last_error: string | null;
  next_attempt_at: Date | null;
  succeeded_at: Date | null;
}

function toDeliveryRecord(row: DeliveryRow): DeliveryRecord {
  return {
    eventSeq: row.event_seq,
    eventId: row.event_id,
    eventName: row.event_name as EventName,
    eventCreatedAt: fromDate(row.event_created_at),
    status: row.status,
    attempts: row.attempts,
    lastAttemptAt: fromDateOrNull(row.last_attempt_at),
    lastResponseStatus: row.last_response_status,
    lastError: row.last_error,
    nextAttemptAt: fromDateOrNull(row.next_attempt_at),
    succeededAt: fromDateOrNull(row.succeeded_at),
  };
}

export async function listDeliveries(
  db: DB,
  orgId: number,
  subscriptionId: number,
  status: DeliveryStatus | undefined,
  page: Page,
): Promise<DeliveryRecord[]> {
  let query = db
    .selectFrom('deliveries')
    .select(deliveryColumns)
    .where('org_id', '=', orgId)
    .where('subscription_id', '=', subscriptionId);
  if (status !== undefined) query = query.where('status', '=', status);
  const { after } = page;
  if (after) {
    query = query.where((eb) =>
      eb(eb.refTuple('event_created_at', 'event_seq'), '<', eb.tuple(toDate(after.createdAt), after.seq)),
    );
  }
  const rows = await query.orderBy('event_created_at', 'desc').orderBy('event_seq', 'desc').limit(page.limit).execute();
  return rows.map(toDeliveryRecord);
}

/**
 * A manual retry: the delivery of event `eventId` to the subscription is PENDING again, due at
 * `now` (service clock), with a fresh schedule (`schedule_attempts` 0; `attempts` keeps counting)
 * and no lease, and the delivery workers are woken.
 * Undefined when the subscription has no delivery of that event.
 */
export async function retryDelivery(
  db: DB,
  orgId: number,
  subscriptionId: number,
  eventId: string,
  now: Temporal.Instant,
): Promise<DeliveryRecord | undefined> {
  const row = await db
    .with('retried', (qb) =>
      qb
        .updateTable('deliveries')
        .set({
          status: 'PENDING',
          next_attempt_at: toDate(now),
          schedule_attempts: 0,
          leased_until: null,
          lease_token: null,
        })
        .where('org_id', '=', orgId)
        .where('subscription_id', '=', subscriptionId)
        .where('event_seq', '=', (eb) =>
          eb.selectFrom('events').select('seq').where('org_id', '=', orgId).where('id', '=', eventId),
        )
        .returning(deliveryColumns),
    )
    .selectFrom('retried')
    .selectAll()
    .executeTakeFirst();
  if (!row) return undefined;
  await notifyDeliveryWorkers(db);
  return toDeliveryRecord(row);
}

/**
 * How many deliveries are PENDING, across orgs (the metrics' backlog gauge). The predicate is
 * that of the partial index `deliveries_due`, so PostgreSQL counts that index's entries alone
 * and never reads the finished deliveries. Spans orgs.
 */
export async function countPendingDeliveries(db: DB): Promise<number> {
  const row = await acrossShards(db, (trx) =>
    trx
      .selectFrom('deliveries')
      .select((eb) => eb.fn.countAll<number | string | bigint>().as('pending'))
      .where('status', '=', 'PENDING')
      .executeTakeFirstOrThrow(),
  );
  return Number(row.pending);
}
