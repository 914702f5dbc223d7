import type { Temporal } from 'temporal-polyfill';
import type { DB } from '../database.js';
import { fromDate, toDate } from '../instants.js';

/** Failed logins, shared by every instance on the database (SPEC §10 throttling). */

/** The subject's failures in (`since`, `until`], newest first, at most `limit`. */
export async function recentLoginFailures(
  db: DB,
  subject: string,
  since: Temporal.Instant,
  until: Temporal.Instant,
  limit: number,
): Promise<Temporal.Instant[]> {
  const rows = await db
    .selectFrom('login_failures')
    .select('failed_at')
    .where('subject', '=', subject)
    .where('failed_at', '>', toDate(since))
    .where('failed_at', '<=', toDate(until))
    .orderBy('failed_at', 'desc')
    .limit(limit)
    .execute();
  return rows.map((row) => fromDate(row.failed_at));
}

/** Records one failure and drops every failure that has left the window, whoever's it was. */
export async function recordLoginFailure(
  db: DB,
  subject: string,
  at: Temporal.Instant,
  forgetBefore: Temporal.Instant,
): Promise<void> {
  await db
    .insertInto('login_failures')
    .values({ subject, failed_at: toDate(at) })
    .execute();
  await db.deleteFrom('login_failures').where('failed_at', '<=', toDate(forgetBefore)).execute();
}
