import { sql, type Transaction, type Updateable } from 'kysely';
import type { DB } from '../database.js';
import type { Database, PartnerProgramsTable } from '../schema.js';
import { FOREIGN_KEY_VIOLATION } from '../errors.js';
import { violationOf } from './configuration.repository.js';

/** Partner programs and their tiers as the admin API and the config file write and read them. */

export type ProgramType = 'EXTERNAL' | 'SUPPLEMENTARY';

/** Fields left undefined keep their stored value on update and take the column default on insert. */
export interface PartnerProgramFields {
  loyaltyProgramId: number;
  name: string;
  description?: string | null;
  active?: boolean;
  expiryDate?: Date | null;
  cycle?: { unit: 'DAYS' | 'MONTHS'; value: number };
  expiryReminderDays?: number[];
}

export interface PartnerProgramRow {
  id: number;
  loyaltyProgramId: number;
  name: string;
  type: ProgramType;
  description: string | null;
  active: boolean;
  expiryDate: Date | null;
  cycleUnit: 'DAYS' | 'MONTHS' | null;
  cycleValue: number | null;
  backupProgramName: string | null;
  expiryReminderDays: number[];
  tiers: string[];
}

/** The org's program of that name (case-insensitively), locked until the transaction ends. */
export async function lockPartnerProgramByName(
  trx: Transaction<Database>,
  orgId: number,
  name: string,
): Promise<{ id: number; type: ProgramType } | undefined> {
  return trx
    .selectFrom('partner_programs')
    .select(['id', 'type'])
    .where('org_id', '=', orgId)
    .where(sql<string>`lower(name)`, '=', name.toLowerCase())
    .forUpdate()
    .executeTakeFirst();
}

function columnsOf(fields: PartnerProgramFields): Updateable<PartnerProgramsTable> {
  const columns: Updateable<PartnerProgramsTable> = { loyalty_program_id: fields.loyaltyProgramId, name: fields.name };
  if (fields.description !== undefined) columns.description = fields.description;
  if (fields.active !== undefined) columns.active = fields.active;
  if (fields.expiryDate !== undefined) columns.expiry_date = fields.expiryDate;
  if (fields.cycle !== undefined) {
    columns.cycle_unit = fields.cycle.unit;
    columns.cycle_value = fields.cycle.value;
  }
  if (fields.expiryReminderDays !== undefined) columns.expiry_reminder_days = fields.expiryReminderDays;
  return columns;
}

export async function insertPartnerProgram(
  db: DB,
  orgId: number,
  type: ProgramType,
  fields: PartnerProgramFields,
): Promise<number> {
  const row = await db
    .insertInto('partner_programs')
    .values({
      org_id: orgId,
      type,
      loyalty_program_id: fields.loyaltyProgramId,
      name: fields.name,
      description: fields.description ?? null,
      active: fields.active ?? true,
      expiry_date: fields.expiryDate ?? null,
      cycle_unit: fields.cycle?.unit ?? null,
      cycle_value: fields.cycle?.value ?? null,
      backup_program_id: null,
      expiry_reminder_days: fields.expiryReminderDays ?? [],
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export async function updatePartnerProgram(db: DB, programId: number, fields: PartnerProgramFields): Promise<void> {
  await db.updateTable('partner_programs').set(columnsOf(fields)).where('id', '=', programId).execute();
}

export async function setBackupProgram(db: DB, programId: number, backupProgramId: number | null): Promise<void> {
  await db
    .updateTable('partner_programs')
    .set({ backup_program_id: backupProgramId })
    .where('id', '=', programId)
    .execute();
}

export type TierReplacement = 'saved' | { held: { number: number; name: string } };

/**
 * Makes `names` the program's tiers, numbered from 1. Memberships point at a tier by number, so
 * a tier some membership holds may change the case of its name but not be removed or renamed:
 * that would silently move its customers to another tier. The tier rows are locked first, which
 * also blocks a concurrent link from starting to hold one of them until this commits.
 */
export async function replaceTiers(
  trx: Transaction<Database>,
  programId: number,
  names: string[],
): Promise<TierReplacement> {
  const existing = await trx
    .selectFrom('partner_program_tiers')
    .select(['number', 'name'])
    .where('partner_program_id', '=', programId)
    .orderBy('number')
    .forUpdate()
    .execute();
  if (existing.length === names.length && existing.every((tier, i) => tier.name === names[i])) return 'saved';

  const heldRows = await trx
    .selectFrom('memberships')
    .select('tier_number')
    .distinct()
    .where('partner_program_id', '=', programId)
    .where('tier_number', 'is not', null)
    .execute();
  const held = new Set(heldRows.map((row) => row.tier_number));
  const conflict = existing.find(
    (tier) => held.has(tier.number) && names[tier.number - 1]?.toLowerCase() !== tier.name.toLowerCase(),
  );
  if (conflict) return { held: conflict };

  try {
    await trx
      .deleteFrom('partner_program_tiers')
      .where('partner_program_id', '=', programId)
      .where('number', '>', names.length)
      .execute();
  } catch (error) {
    if (violationOf(error)?.code !== FOREIGN_KEY_VIOLATION) throw error;
    return { held: existing[names.length] ?? { number: names.length + 1, name: '?' } };
  }
  // A reorder moves names between numbers; parking the renamed rows under a name no tier can
  // match keeps the unique (program, lower(name)) index from seeing one name twice mid-statement.
  const renamed = existing.filter((tier) => tier.number <= names.length && names[tier.number - 1] !== tier.name);
  if (renamed.length > 0) {
    await trx
      .updateTable('partner_program_tiers')
      .set({ name: sql<string>`chr(1) || number::text` })
      .where('partner_program_id', '=', programId)
      .where('number', '=', sql<number>`any(${renamed.map((tier) => tier.number)}::int[])`)
      .execute();
  }
  if (names.length > 0) {
    await trx
      .insertInto('partner_program_tiers')
      .values(names.map((name, i) => ({ partner_program_id: programId, number: i + 1, name })))
      .onConflict((oc) =>
        oc.columns(['partner_program_id', 'number']).doUpdateSet({ name: (eb) => eb.ref('excluded.name') }),
      )
      .execute();
  }
  return 'saved';
}

/** The org's partner programs (or the one named `name`), with tiers in order and the backup's name. */
export async function listPartnerPrograms(db: DB, orgId: number, name?: string): Promise<PartnerProgramRow[]> {
  let query = db
    .selectFrom('partner_programs as p')
    .leftJoin('partner_programs as b', 'b.id', 'p.backup_program_id')
    .select([
      'p.id',
      'p.loyalty_program_id as loyaltyProgramId',
      'p.name',
      'p.type',
      'p.description',
      'p.active',
      'p.expiry_date as expiryDate',
      'p.cycle_unit as cycleUnit',
      'p.cycle_value as cycleValue',
      'b.name as backupProgramName',
      'p.expiry_reminder_days as expiryReminderDays',
      sql<string[]>`coalesce((select array_agg(t.name order by t.number) from partner_program_tiers t
        where t.partner_program_id = p.id), '{}'::text[])`.as('tiers'),
    ])
    .where('p.org_id', '=', orgId);
  if (name !== undefined) query = query.where(sql<string>`lower(p.name)`, '=', name.toLowerCase());
  return query.orderBy('p.id').execute();
}
