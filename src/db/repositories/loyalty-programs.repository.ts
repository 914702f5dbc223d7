import { sql } from 'kysely';
import type { LoyaltyProgramSummary } from '../../model/org.js';
import type { DB } from '../database.js';

/** Loyalty program ids are unique across the service: an id held by another org is 'taken'. */
export async function upsertLoyaltyProgram(
  db: DB,
  orgId: number,
  program: { id: number; name: string; oneSupplementaryProgramAtATime?: boolean },
): Promise<LoyaltyProgramSummary | 'taken'> {
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

export async function listLoyaltyPrograms(db: DB, orgId: number): Promise<LoyaltyProgramSummary[]> {
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
