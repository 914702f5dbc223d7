import { sql, type Transaction, type Updateable } from 'kysely';
import type { Temporal } from 'temporal-polyfill';
import type { Cycle, ExpiringProgram, PartnerProgram, PartnerProgramRecord, ProgramType } from '../../model/program.js';
import type { DB } from '../database.js';
import { fromDate, fromDateOrNull, toDate } from '../instants.js';
import type { Database, PartnerProgramsTable } from '../schema.js';

/**
 * Partner programs: as the admin API and the config file write and read them, as the membership
 * rules read them, and as the scheduler finds the expired ones.
 */

/** Fields left undefined keep their stored value on update and take the column default on insert. */
export interface PartnerProgramFields {
  loyaltyProgramId: number;
  name: string;
  description?: string | null;
  active?: boolean;
  expiryDate?: Temporal.Instant | null;
  cycle?: Cycle;
  expiryReminderDays?: number[];
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
  if (fields.expiryDate !== undefined) columns.expiry_date = fields.expiryDate && toDate(fields.expiryDate);
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
      expiry_date: fields.expiryDate ? toDate(fields.expiryDate) : null,
      cycle_unit: fields.cycle?.unit ?? null,
      cycle_value: fields.cycle?.value ?? null,
      backup_program_id: null,
      expiry_reminder_days: fields.expiryReminderDays ?? [],
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export async function updatePartnerProgram(
  db: DB,
  orgId: number,
  programId: number,
  fields: PartnerProgramFields,
): Promise<void> {
  await db
    .updateTable('partner_programs')
    .set(columnsOf(fields))
    .where('org_id', '=', orgId)
    .where('id', '=', programId)
    .execute();
}

export async function setBackupProgram(
  db: DB,
  orgId: number,
  programId: number,
  backupProgramId: number | null,
): Promise<void> {
  await db
    .updateTable('partner_programs')
    .set({ backup_program_id: backupProgramId })
    .where('org_id', '=', orgId)
    .where('id', '=', programId)
    .execute();
}

/** The org's partner programs (or the one named `name`), with tiers in order and the backup's name. */
export async function listPartnerPrograms(db: DB, orgId: number, name?: string): Promise<PartnerProgramRecord[]> {
  let query = db
    .selectFrom('partner_programs as p')
    .leftJoin('partner_programs as b', (join) =>
      join.onRef('b.org_id', '=', 'p.org_id').onRef('b.id', '=', 'p.backup_program_id'),
    )
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
        where t.org_id = ${orgId} and t.partner_program_id = p.id), '{}'::text[])`.as('tiers'),
    ])
    .where('p.org_id', '=', orgId);
  if (name !== undefined) query = query.where(sql<string>`lower(p.name)`, '=', name.toLowerCase());
  const rows = await query.orderBy('p.id').execute();
  return rows.map(({ cycleUnit, cycleValue, ...row }) => ({
    id: row.id,
    loyaltyProgramId: row.loyaltyProgramId,
    name: row.name,
    type: row.type,
    description: row.description,
    active: row.active,
    expiryDate: fromDateOrNull(row.expiryDate),
    cycle: cycleUnit && cycleValue ? { unit: cycleUnit, value: cycleValue } : null,
    backupProgramName: row.backupProgramName,
    expiryReminderDays: row.expiryReminderDays,
    tiers: row.tiers,
  }));
}

/** The org's partner programs with the given names (compared lower-cased), with tiers and settings. */
export async function findProgramsByNames(db: DB, orgId: number, lowerNames: string[]): Promise<PartnerProgram[]> {
  if (lowerNames.length === 0) return [];
  const rows = await programsQuery(db, orgId)
    .where(sql<string>`lower(p.name)`, '=', sql<string>`any(${lowerNames}::text[])`)
    .execute();
  return rows.map(toPartnerProgram);
}

/** The org's partner programs with the given ids, as findProgramsByNames. */
export async function findProgramsByIds(
  db: DB | Transaction<Database>,
  orgId: number,
  ids: readonly number[],
): Promise<PartnerProgram[]> {
  if (ids.length === 0) return [];
  const rows = await programsQuery(db, orgId)
    .where('p.id', '=', sql<number>`any(${[...ids]}::bigint[])`)
    .execute();
  return rows.map(toPartnerProgram);
}

/** The org's programs with their tiers. Every table the statement reads is filtered by the org itself (a correlated subquery too), so a sharded database runs it on the org's shard alone. */
function programsQuery(db: DB | Transaction<Database>, orgId: number) {
  return db
    .selectFrom('partner_programs as p')
    .innerJoin('loyalty_programs as lp', 'lp.id', 'p.loyalty_program_id')
    .select([
      'p.id',
      'p.name',
      'p.type',
      'p.loyalty_program_id',
      'lp.one_supplementary_program_at_a_time',
      'p.active',
      'p.expiry_date',
      'p.cycle_unit',
      'p.cycle_value',
      sql<{ number: number; name: string }[]>`coalesce((
        select json_agg(json_build_object('number', t.number, 'name', t.name) order by t.number)
        from partner_program_tiers t where t.org_id = ${orgId} and t.partner_program_id = p.id), '[]'::json)`.as(
        'tiers',
      ),
    ])
    .where('p.org_id', '=', orgId);
}

function toPartnerProgram(
  row: Awaited<ReturnType<ReturnType<typeof programsQuery>['execute']>>[number],
): PartnerProgram {
  return {
    id: row.id,
    name: row.name,
    type: row.type,
    loyaltyProgramId: row.loyalty_program_id,
    oneSupplementaryProgramAtATime: row.one_supplementary_program_at_a_time,
    active: row.active,
    expiryDate: row.expiry_date ? fromDate(row.expiry_date) : null,
    cycle: row.cycle_unit && row.cycle_value ? { unit: row.cycle_unit, value: row.cycle_value } : null,
    tiers: row.tiers,
  };
}

/** The org's programs whose expiry date has come, each with its backup program (if any). */
export async function findExpiredPrograms(
  db: DB | Transaction<Database>,
  orgId: number,
  now: Temporal.Instant,
): Promise<ExpiringProgram[]> {
  const rows = await db
    .selectFrom('partner_programs as p')
    .leftJoin('partner_programs as b', (join) =>
      join.onRef('b.org_id', '=', 'p.org_id').onRef('b.id', '=', 'p.backup_program_id'),
    )
    .leftJoin('loyalty_programs as blp', 'blp.id', 'b.loyalty_program_id')
    .select([
      'p.id',
      'p.expiry_date',
      'b.id as backup_id',
      'b.name as backup_name',
      'b.loyalty_program_id as backup_loyalty_program_id',
      'blp.one_supplementary_program_at_a_time as backup_one_supplementary',
      'b.active as backup_active',
      'b.expiry_date as backup_expiry_date',
      'b.cycle_unit as backup_cycle_unit',
      'b.cycle_value as backup_cycle_value',
    ])
    .where('p.org_id', '=', orgId)
    .where('p.expiry_date', '<=', toDate(now))
    .execute();
  return rows.map((r) => ({
    id: r.id,
    expiryDate: fromDate(r.expiry_date!),
    backup:
      r.backup_id !== null && r.backup_cycle_unit && r.backup_cycle_value
        ? {
            id: r.backup_id,
            name: r.backup_name!,
            type: 'SUPPLEMENTARY',
            loyaltyProgramId: r.backup_loyalty_program_id!,
            oneSupplementaryProgramAtATime: r.backup_one_supplementary ?? false,
            active: r.backup_active ?? false,
            expiryDate: r.backup_expiry_date ? fromDate(r.backup_expiry_date) : null,
            cycle: { unit: r.backup_cycle_unit, value: r.backup_cycle_value },
            tiers: [],
          }
        : null,
  }));
}
