import { sql } from 'kysely';
import type { Temporal } from 'temporal-polyfill';
import type { TillCredential, TillSummary } from '../../model/org.js';
import type { DB } from '../database.js';
import { fromDateOrNull, toDate } from '../instants.js';

/** Tills: the login path's read, the configuration's writes and reads. */

/** Which failed login of a subject decides whether it is throttled: the `rank`-th newest in (`since`, `until`]. */
export interface FailureProbe {
  subject: string;
  since: Temporal.Instant;
  until: Temporal.Instant;
  rank: number;
}

export interface TillLogin {
  credential: TillCredential | undefined;
  /** The probed failure, or undefined when the subject has fewer failures than its rank in the window. */
  rankedFailure: Temporal.Instant | undefined;
}

/**
 * A Basic login's one read: the till named `username` (undefined: none can match) with its org
 * and the configuration version, and the subject's failed login the throttle looks at.
 */
export async function findTillLogin(db: DB, username: string | undefined, probe: FailureProbe): Promise<TillLogin> {
  const { rows } = await sql<{
    till_id: number | null;
    username: string | null;
    password_hash: string | null;
    access_groups: string[] | null;
    org_id: number | null;
    timezone: string | null;
    configs: Record<string, unknown> | null;
    version: number;
    ranked_failure: Date | null;
  }>`
    select t.id as till_id, t.username, t.password_hash, t.access_groups, o.id as org_id, o.timezone, o.configs,
      v.version,
      (select f.failed_at from login_failures f
        where f.subject = ${probe.subject} and f.failed_at > ${toDate(probe.since)} and f.failed_at <= ${toDate(probe.until)}
        order by f.failed_at desc offset ${probe.rank - 1} limit 1) as ranked_failure
    from configuration_version v
    left join tills t on t.username = ${username ?? null}
    left join orgs o on o.id = t.org_id
    where v.id`.execute(db);
  const row = rows[0]!;
  const credential: TillCredential | undefined =
    row.till_id === null
      ? undefined
      : {
          tillId: row.till_id,
          username: row.username!,
          secretHash: row.password_hash!,
          accessGroups: row.access_groups!,
          orgId: row.org_id!,
          orgTimezone: row.timezone!,
          orgConfigs: row.configs!,
          configurationVersion: Number(row.version),
        };
  return { credential, rankedFailure: fromDateOrNull(row.ranked_failure) ?? undefined };
}

/** The stored hashes of these usernames, wherever they belong, so unchanged passwords are not re-hashed. */
export async function findTillHashes(
  db: DB,
  usernames: string[],
): Promise<Map<string, { orgId: number; passwordHash: string }>> {
  if (usernames.length === 0) return new Map();
  const rows = await db
    .selectFrom('tills')
    .select(['username', 'org_id', 'password_hash'])
    .where('username', '=', sql<string>`any(${usernames}::text[])`)
    .execute();
  return new Map(rows.map((row) => [row.username, { orgId: row.org_id, passwordHash: row.password_hash }]));
}

/** Usernames are unique across the service: one held by another org's till is 'taken'. */
export async function upsertTill(
  db: DB,
  orgId: number,
  till: { username: string; passwordHash: string; accessGroups: string[] },
): Promise<'saved' | 'taken'> {
  const row = await db
    .insertInto('tills')
    .values({
      org_id: orgId,
      username: till.username,
      password_hash: till.passwordHash,
      access_groups: till.accessGroups,
    })
    .onConflict((oc) =>
      oc
        .column('username')
        .doUpdateSet({
          password_hash: (eb) => eb.ref('excluded.password_hash'),
          access_groups: (eb) => eb.ref('excluded.access_groups'),
        })
        .where('tills.org_id', '=', orgId),
    )
    .returning('id')
    .executeTakeFirst();
  return row ? 'saved' : 'taken';
}

export async function listTills(db: DB, orgId: number): Promise<TillSummary[]> {
  return db
    .selectFrom('tills')
    .select(['username', 'access_groups as accessGroups'])
    .where('org_id', '=', orgId)
    .orderBy('username')
    .execute();
}
