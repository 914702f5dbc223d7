import { sql } from 'kysely';
import { fromDate } from '../../domain/dates.js';
import type { PartnerProgram } from '../../domain/model.js';
import type { DB } from '../database.js';

/** The org's partner programs with the given names (compared lower-cased), with tiers and settings. */
export async function findProgramsByNames(db: DB, orgId: number, lowerNames: string[]): Promise<PartnerProgram[]> {
  if (lowerNames.length === 0) return [];
  const rows = await db
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
        from partner_program_tiers t where t.partner_program_id = p.id), '[]'::json)`.as('tiers'),
    ])
    .where('p.org_id', '=', orgId)
    .where(sql<string>`lower(p.name)`, 'in', lowerNames)
    .execute();
  return rows.map((row) => ({
    id: row.id,
    name: row.name,
    type: row.type,
    loyaltyProgramId: row.loyalty_program_id,
    oneSupplementaryProgramAtATime: row.one_supplementary_program_at_a_time,
    active: row.active,
    expiryDate: row.expiry_date ? fromDate(row.expiry_date) : null,
    cycle: row.cycle_unit && row.cycle_value ? { unit: row.cycle_unit, value: row.cycle_value } : null,
    tiers: row.tiers,
  }));
}
