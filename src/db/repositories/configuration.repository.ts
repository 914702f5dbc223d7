import { sql, type Transaction } from 'kysely';
import type { DB } from '../database.js';
import type { Database } from '../schema.js';

/** Orgs, loyalty and partner programs, tiers and tills: the admin API's and the config file's writes and reads. */

/** The SQLSTATE and constraint of a failed statement (pg and PGlite both expose them). */
export function violationOf(error: unknown): { code: string; constraint: string | undefined } | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, constraint } = error as { code?: unknown; constraint?: unknown };
  if (typeof code !== 'string') return undefined;
  return { code, constraint: typeof constraint === 'string' ? constraint : undefined };
}

/** Concurrent appliers (several instances starting at once) take turns instead of racing on name lookups. */
export async function serializeConfigurationChanges(trx: Transaction<Database>): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext('partner-programs:configuration'))`.execute(trx);
}

export interface OrgRow {
  id: number;
  name: string;
  timezone: string;
  configs: Record<string, unknown>;
}

const orgColumns = ['id', 'name', 'timezone', 'configs'] as const;

/** Creates or updates an org. A missing timezone keeps the stored one; configs are merged key by key. */
export async function upsertOrg(
  db: DB,
  org: { id: number; name: string; timezone?: string; defaultTimezone: string; configs: Record<string, unknown> },
): Promise<OrgRow> {
  return db
    .insertInto('orgs')
    .values({
      id: org.id,
      name: org.name,
      timezone: org.timezone ?? org.defaultTimezone,
      configs: JSON.stringify(org.configs),
    })
    .onConflict((oc) =>
      oc.column('id').doUpdateSet({
        name: (eb) => eb.ref('excluded.name'),
        timezone: sql<string>`coalesce(${org.timezone ?? null}::text, orgs.timezone)`,
        configs: sql<string>`orgs.configs || excluded.configs`,
      }),
    )
    .returning(orgColumns)
    .executeTakeFirstOrThrow();
}

export async function findOrg(db: DB, orgId: number): Promise<OrgRow | undefined> {
  return db.selectFrom('orgs').select(orgColumns).where('id', '=', orgId).executeTakeFirst();
}

export async function listOrgs(db: DB): Promise<OrgRow[]> {
  return db.selectFrom('orgs').select(orgColumns).orderBy('id').execute();
}

/** JSON merge patch of an org's configs: `set` keys are written, `remove` keys dropped. */
export async function mergeOrgConfigs(
  db: DB,
  orgId: number,
  set: Record<string, unknown>,
  remove: string[],
): Promise<Record<string, unknown> | undefined> {
  const row = await db
    .updateTable('orgs')
    .set({ configs: sql<string>`(configs || ${JSON.stringify(set)}::jsonb) - ${remove}::text[]` })
    .where('id', '=', orgId)
    .returning('configs')
    .executeTakeFirst();
  return row?.configs;
}

export interface LoyaltyProgramRow {
  id: number;
  name: string;
  oneSupplementaryProgramAtATime: boolean;
}

/** Loyalty program ids are unique across the service: an id held by another org is 'taken'. */
export async function upsertLoyaltyProgram(
  db: DB,
  orgId: number,
  program: { id: number; name: string; oneSupplementaryProgramAtATime?: boolean },
): Promise<LoyaltyProgramRow | 'taken'> {
  const row = await db
    .insertInto('loyalty_programs')
    .values({
      id: program.id,
      org_id: orgId,
      name: program.name,
      one_supplementary_program_at_a_time: program.oneSupplementaryProgramAtATime ?? false,
    })
    .onConflict((oc) =>
      oc
        .column('id')
        .doUpdateSet({
          name: (eb) => eb.ref('excluded.name'),
          one_supplementary_program_at_a_time: sql<boolean>`coalesce(${program.oneSupplementaryProgramAtATime ?? null}::boolean, loyalty_programs.one_supplementary_program_at_a_time)`,
        })
        .where('loyalty_programs.org_id', '=', orgId),
    )
    .returning(['id', 'name', 'one_supplementary_program_at_a_time as oneSupplementaryProgramAtATime'])
    .executeTakeFirst();
  return row ?? 'taken';
}

export async function listLoyaltyPrograms(db: DB, orgId: number): Promise<LoyaltyProgramRow[]> {
  return db
    .selectFrom('loyalty_programs')
    .select(['id', 'name', 'one_supplementary_program_at_a_time as oneSupplementaryProgramAtATime'])
    .where('org_id', '=', orgId)
    .orderBy('id')
    .execute();
}

/** Which of `ids` are loyalty programs of the org (an id past 2^53 is none: it would overflow bigint). */
export async function findOrgLoyaltyProgramIds(db: DB, orgId: number, candidates: number[]): Promise<Set<number>> {
  const ids = candidates.filter(Number.isSafeInteger);
  if (ids.length === 0) return new Set();
  const rows = await db
    .selectFrom('loyalty_programs')
    .select('id')
    .where('org_id', '=', orgId)
    .where('id', '=', sql<number>`any(${ids}::bigint[])`)
    .execute();
  return new Set(rows.map((row) => row.id));
}

export interface TillRow {
  username: string;
  accessGroups: string[];
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

export async function listTills(db: DB, orgId: number): Promise<TillRow[]> {
  return db
    .selectFrom('tills')
    .select(['username', 'access_groups as accessGroups'])
    .where('org_id', '=', orgId)
    .orderBy('username')
    .execute();
}

export async function countCustomers(db: DB, orgId: number): Promise<number> {
  const row = await db
    .selectFrom('customers')
    .select((eb) => eb.fn.countAll<string | number>().as('count'))
    .where('org_id', '=', orgId)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}
