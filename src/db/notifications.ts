import type { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import type { DB } from './database.js';

/**
 * LISTEN/NOTIFY: how a committed write wakes a worker at once instead of at its next poll.
 * A notification only says "look again"; it carries nothing, so one that is lost (a dropped
 * connection, a notification sent while reconnecting) costs a poll interval, never a delivery.
 */

/** Notified (empty payload) by every statement that makes a delivery due now: the outbox, a manual retry. */
export const DELIVERIES_CHANNEL = 'webhook_deliveries';

/** Stops listening; safe to call twice. */
export type Unlisten = () => Promise<void>;

const RECONNECT_FIRST_MS = 250;
const RECONNECT_MAX_MS = 10_000;

/**
 * A dedicated connection (not one of the pool's, which a LISTEN would pin and a pool may close)
 * running LISTEN. When it drops, it reconnects with a doubling backoff and then calls `onNotify`
 * once, for whatever was notified while it was away. A first connection that fails is retried
 * the same way: the caller's slow poll covers the gap.
 */
export async function listenOnPostgres(url: string, channel: string, onNotify: () => void): Promise<Unlisten> {
  let stopped = false;
  let client: pg.Client | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let backoffMs = RECONNECT_FIRST_MS;

  const scheduleReconnect = () => {
    if (stopped || retryTimer) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void connect(true);
    }, backoffMs);
    retryTimer.unref();
    backoffMs = Math.min(backoffMs * 2, RECONNECT_MAX_MS);
  };

  const connect = async (reconnecting: boolean): Promise<void> => {
    const candidate = new pg.Client({ connectionString: url, keepAlive: true });
    let lost = false;
    const onLost = () => {
      if (lost) return;
      lost = true;
      if (client === candidate) client = undefined;
      candidate.end().catch(() => {});
      scheduleReconnect();
    };
    candidate.on('error', onLost);
    candidate.on('end', onLost);
    candidate.on('notification', (message) => {
      if (message.channel === channel) onNotify();
    });
    try {
      await candidate.connect();
      await candidate.query(`listen ${candidate.escapeIdentifier(channel)}`);
    } catch {
      onLost();
      return;
    }
    if (stopped) {
      lost = true;
      await candidate.end().catch(() => {});
      return;
    }
    client = candidate;
    backoffMs = RECONNECT_FIRST_MS;
    if (reconnecting) onNotify();
  };

  await connect(false);
  return async () => {
    if (stopped) return;
    stopped = true;
    clearTimeout(retryTimer);
    const current = client;
    client = undefined;
    await current?.end().catch(() => {});
  };
}

/**
 * PGlite's own LISTEN: a NOTIFY from any statement on the same instance reaches it when that
 * statement's transaction commits (checked by test/api/delivery-worker.test.ts). LISTEN and
 * UNLISTEN go through the driver's connection so that they never run inside another caller's
 * open transaction (a rollback there would undo them).
 */
export async function listenOnPGlite(db: DB, pglite: PGlite, channel: string, onNotify: () => void): Promise<Unlisten> {
  const callback = () => onNotify();
  const unsubscribe = await db.connection().execute(() => pglite.listen(channel, callback));
  let stopped = false;
  return async () => {
    if (stopped || pglite.closed) return;
    stopped = true;
    await db.connection().execute(() => unsubscribe());
  };
}
