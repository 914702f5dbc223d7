import { sql, type Transaction } from 'kysely';
import type { OrgSummary } from '../../model/org.js';
import type { DB } from '../database.js';
import type { Database } from '../schema.js';

/** Orgs, as the admin API and the config file write and read them. */

/**
 * Starts a configuration change: bumps the configuration version, whose row lock makes concurrent
 * appliers (several instances starting at once) take turns instead of racing on name lookups,
 * and whose new value, once committed, tells every instance that what it cached is stale.
 */
export async function serializeConfigurationChanges(trx: Transaction<Database>): Promise<void> {
  await sql`update configuration_version set version = version + 1`.execute(trx);
}

const orgColumns = ['id', 'name', 'timezone', 'configs'] as const;

/** Creates or updates an org. A missing timezone keeps the stored one; configs are merged key by key. */
export async function upsertOrg(
  db: DB,
  org: { id: number; name: string; timezone?: string; defaultTimezone: string; configs: Record<string, unknown> },
): Promise<OrgSummary> {
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

export async function findOrg(db: DB, orgId: number): Promise<OrgSummary | undefined> {
  return db.selectFrom('orgs').select(orgColumns).where('id', '=', orgId).executeTakeFirst();
}

/** Every org's id, in order: what the scheduler and the delivery worker go through one by one. */
export async function listOrgIds(db: DB): Promise<number[]> {
  const rows = await db.selectFrom('orgs').select('id').orderBy('id').execute();
  return rows.map((r) => r.id);
}

export async function listOrgs(db: DB): Promise<OrgSummary[]> {
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
