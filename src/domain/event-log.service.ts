import { Temporal } from 'temporal-polyfill';
import type { DB } from '../db/database.js';
import {
  listDeliveries,
  listEvents,
  retryDelivery,
  type DeliveryRecord,
  type PageKey,
} from '../db/repositories/event-log.repository.js';
import { findOrg } from '../db/repositories/orgs.repository.js';
import { findWebhookSubscription } from '../db/repositories/webhook-subscriptions.repository.js';
import type { DeliveryStatus, EventName, StoredEvent } from '../model/event.js';
import type { Clock } from './clock.js';
import { noSubscription } from './configuration/webhooks.js';
import { failure, type AdminResult } from './configuration/outcome.js';

/**
 * The event log and the deliveries of a subscription (SPEC §9.3), a page at a time, and the manual
 * retry of a delivery. A page's cursor is the key of its last row with the filters it was read
 * with: opaque to clients, and refused with other filters (or another org's or subscription's).
 */

export type { DeliveryRecord } from '../db/repositories/event-log.repository.js';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 100;

export interface PageQuery {
  limit?: number;
  cursor?: string;
}

export interface EventLogQuery extends PageQuery {
  customerId?: number;
  eventName?: EventName;
}

export interface DeliveriesQuery extends PageQuery {
  status?: DeliveryStatus;
}

export interface PageOf<T> {
  items: T[];
  nextCursor: string | null;
}

export async function listEventLog(
  db: DB,
  orgId: number,
  query: EventLogQuery,
): Promise<AdminResult<PageOf<StoredEvent>>> {
  const filters = { orgId, customerId: query.customerId ?? null, eventName: query.eventName ?? null };
  const page = readPage(query, filters, ['customerId', 'eventName']);
  if (!page.ok) return page;
  if (query.customerId !== undefined && !(Number.isSafeInteger(query.customerId) && query.customerId > 0)) {
    return failure('invalid', 'customerId: must be a positive integer');
  }
  if (!(await findOrg(db, orgId))) return failure('not_found', `No org ${orgId}`);
  const rows = await listEvents(db, orgId, query, { after: page.value.after, limit: page.value.limit + 1 });
  return { ok: true, value: pageOf(rows, page.value.limit, filters, (e) => ({ createdAt: e.createdAt, seq: e.seq })) };
}

export async function listWebhookDeliveries(
  db: DB,
  orgId: number,
  name: string,
  query: DeliveriesQuery,
): Promise<AdminResult<PageOf<DeliveryRecord>>> {
  const filters = { orgId, name, status: query.status ?? null };
  const page = readPage(query, filters, ['status']);
  if (!page.ok) return page;
  const subscription = await findWebhookSubscription(db, orgId, name);
  if (!subscription) return failure('not_found', noSubscription(orgId, name));
  const rows = await listDeliveries(db, orgId, subscription.id, query.status, {
    after: page.value.after,
    limit: page.value.limit + 1,
  });
  const keyOf = (d: DeliveryRecord) => ({ createdAt: d.eventCreatedAt, seq: d.eventSeq });
  return { ok: true, value: pageOf(rows, page.value.limit, filters, keyOf) };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** PENDING again with an attempt due now and a fresh schedule (SPEC §9.3); the workers are woken. */
export async function retryWebhookDelivery(
  deps: { db: DB; clock: Clock },
  orgId: number,
  name: string,
  eventId: string,
): Promise<AdminResult<DeliveryRecord>> {
  const subscription = await findWebhookSubscription(deps.db, orgId, name);
  if (!subscription) return failure('not_found', noSubscription(orgId, name));
  const retried = UUID.test(eventId)
    ? await retryDelivery(deps.db, orgId, subscription.id, eventId.toLowerCase(), deps.clock.now())
    : undefined;
  return retried
    ? { ok: true, value: retried }
    : failure('not_found', `No delivery of event ${eventId} to webhook subscription "${name}" in org ${orgId}`);
}

type Filters = Record<string, string | number | null>;

interface Cursor {
  at: string;
  seq: number;
  filters: Filters;
}

function readPage(
  query: PageQuery,
  filters: Filters,
  filterNames: string[],
): AdminResult<{ limit: number; after?: PageKey }> {
  const limit = query.limit ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
    return failure('invalid', `limit: must be an integer from 1 to ${MAX_PAGE_SIZE}`);
  }
  if (query.cursor === undefined) return { ok: true, value: { limit } };
  const cursor = decodeCursor(query.cursor);
  if (!cursor) {
    return failure(
      'invalid',
      'cursor: not a cursor of this listing (pass the nextCursor of the previous page as it is)',
    );
  }
  if (JSON.stringify(cursor.filters) !== JSON.stringify(filters)) {
    return failure(
      'invalid',
      `cursor: valid only with the filters of the page it came from (the same ${filterNames.join(', ')}, ` +
        'in the same org and listing); start again without a cursor to change them',
    );
  }
  return { ok: true, value: { limit, after: { createdAt: Temporal.Instant.from(cursor.at), seq: cursor.seq } } };
}

function decodeCursor(text: string): Cursor | undefined {
  try {
    const value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Partial<Cursor>;
    if (typeof value.at !== 'string' || !Number.isSafeInteger(value.seq) || typeof value.filters !== 'object') {
      return undefined;
    }
    Temporal.Instant.from(value.at);
    return value as Cursor;
  } catch {
    return undefined;
  }
}

/** `rows` holds up to limit + 1: one more than the page tells that another page follows. */
function pageOf<T>(rows: T[], limit: number, filters: Filters, keyOf: (row: T) => PageKey): PageOf<T> {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  if (rows.length <= limit || last === undefined) return { items, nextCursor: null };
  const key = keyOf(last);
  const cursor: Cursor = { at: key.createdAt.toString(), seq: key.seq, filters };
  return { items, nextCursor: Buffer.from(JSON.stringify(cursor)).toString('base64url') };
}
