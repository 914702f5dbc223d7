import { sql } from 'kysely';
import type { TillCredential, TillSummary } from '../../model/org.js';
import type { DB } from '../database.js';

/** Tills: the login path's read, the configuration's writes and reads. */

export async function findTillCredential(db: DB, username: string): Promise<TillCredential | undefined> {
  const row = await db
    .selectFrom('tills')
    .innerJoin('orgs', 'orgs.id', 'tills.org_id')
    .select([
      'tills.id as tillId',
      'tills.username',
      'tills.password_hash as secretHash',
      'tills.access_groups as accessGroups',
      'orgs.id as orgId',
      'orgs.timezone as orgTimezone',
      'orgs.configs as orgConfigs',
    ])
    .where('tills.username', '=', username)
    .executeTakeFirst();
  return row;
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
