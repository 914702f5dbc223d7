import type { Temporal } from 'temporal-polyfill';
import type { DB } from '../database.js';
import { fromDate, toDate } from '../instants.js';
import type { FailureProbe } from './tills.repository.js';

/** Failed logins, shared by every instance on the database (SPEC §10 throttling). */

/** The probe's failure: the subject's `rank`-th newest in (`since`, `until`], if it has that many. */
export async function rankedLoginFailure(db: DB, probe: FailureProbe): Promise<Temporal.Instant | undefined> {
  const row = await db
    .selectFrom('login_failures')
    .select('failed_at')
    .where('subject', '=', probe.subject)
    .where('failed_at', '>', toDate(probe.since))
    .where('failed_at', '<=', toDate(probe.until))
    .orderBy('failed_at', 'desc')
    .offset(probe.rank - 1)
    .limit(1)
    .executeTakeFirst();
  return row && fromDate(row.failed_at);
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
