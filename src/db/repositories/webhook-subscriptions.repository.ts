import type { Temporal } from 'temporal-polyfill';
import type { Subscription } from '../../model/event.js';
import type { DB } from '../database.js';
import { toDate } from '../instants.js';

/** Webhook subscriptions (SPEC §9.3), per org and name: the configuration's reads and writes. */

/** A subscription with its sealed secret and headers, which only a write needs (to keep what is left out). */
export interface SealedSubscription extends Subscription {
  secretSealed: string;
  headersSealed: string;
}

/** What is stored of a subscription; the secret and the header values arrive sealed. */
export interface SubscriptionWrite {
  name: string;
  url: string;
  events: string[];
  active: boolean;
  secretSealed: string;
  headersSealed: string;
  headerNames: string[];
  keyFingerprint: string;
}

const columns = ['id', 'org_id as orgId', 'name', 'url', 'events', 'active', 'header_names as headerNames'] as const;

/** Creates the org's subscription `name`, or replaces every stored field of it. */
export async function upsertWebhookSubscription(
  db: DB,
  orgId: number,
  subscription: SubscriptionWrite,
  now: Temporal.Instant,
): Promise<Subscription> {
  return db
    .insertInto('webhook_subscriptions')
    .values({
      org_id: orgId,
      name: subscription.name,
      url: subscription.url,
      events: subscription.events,
      active: subscription.active,
      secret_sealed: subscription.secretSealed,
      headers_sealed: subscription.headersSealed,
      header_names: subscription.headerNames,
      key_fingerprint: subscription.keyFingerprint,
      created_at: toDate(now),
      updated_at: toDate(now),
    })
    .onConflict((oc) =>
      oc.columns(['org_id', 'name']).doUpdateSet((eb) => ({
        url: eb.ref('excluded.url'),
        events: eb.ref('excluded.events'),
        active: eb.ref('excluded.active'),
        secret_sealed: eb.ref('excluded.secret_sealed'),
        headers_sealed: eb.ref('excluded.headers_sealed'),
        header_names: eb.ref('excluded.header_names'),
        key_fingerprint: eb.ref('excluded.key_fingerprint'),
        updated_at: eb.ref('excluded.updated_at'),
      })),
    )
    .returning(columns)
    .executeTakeFirstOrThrow();
}

export async function findWebhookSubscription(
  db: DB,
  orgId: number,
  name: string,
): Promise<SealedSubscription | undefined> {
  return db
    .selectFrom('webhook_subscriptions')
    .select([...columns, 'secret_sealed as secretSealed', 'headers_sealed as headersSealed'])
    .where('org_id', '=', orgId)
    .where('name', '=', name)
    .executeTakeFirst();
}

/** The org's subscriptions by name (or only the one named `name`), without their secrets. */
export async function listWebhookSubscriptions(db: DB, orgId: number, name?: string): Promise<Subscription[]> {
  let query = db.selectFrom('webhook_subscriptions').select(columns).where('org_id', '=', orgId);
  if (name !== undefined) query = query.where('name', '=', name);
  return query.orderBy('name').execute();
}

/**
 * Deletes the org's subscription `name` with its deliveries and their attempts (the foreign keys
 * cascade), so its pending deliveries are never sent; false when the org has none of that name.
 */
export async function deleteWebhookSubscription(db: DB, orgId: number, name: string): Promise<boolean> {
  const deleted = await db
    .deleteFrom('webhook_subscriptions')
    .where('org_id', '=', orgId)
    .where('name', '=', name)
    .returning('id')
    .executeTakeFirst();
  return deleted !== undefined;
}
