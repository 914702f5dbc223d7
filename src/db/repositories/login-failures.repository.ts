import type { DB } from '../database.js';

/** Failed logins, shared by every instance on the database (SPEC §10 throttling). */

/** The subject's failures in (`since`, `until`], newest first, at most `limit`. */
export async function recentLoginFailures(
  db: DB,
  subject: string,
  since: Date,
  until: Date,
  limit: number,
): Promise<Date[]> {
  const rows = await db
    .selectFrom('login_failures')
    .select('failed_at')
    .where('subject', '=', subject)
    .where('failed_at', '>', since)
    .where('failed_at', '<=', until)
    .orderBy('failed_at', 'desc')
    .limit(limit)
    .execute();
  return rows.map((row) => row.failed_at);
}

/** Records one failure and drops every failure that has left the window, whoever's it was. */
export async function recordLoginFailure(db: DB, subject: string, at: Date, forgetBefore: Date): Promise<void> {
  await db.insertInto('login_failures').values({ subject, failed_at: at }).execute();
  await db.deleteFrom('login_failures').where('failed_at', '<=', forgetBefore).execute();
}
