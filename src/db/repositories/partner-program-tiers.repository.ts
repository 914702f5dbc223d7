import { sql, type Transaction } from 'kysely';
import { FOREIGN_KEY_VIOLATION, violationOf } from '../errors.js';
import type { Database } from '../schema.js';

export type TierReplacement = 'saved' | { held: { number: number; name: string } };

/**
 * Makes `names` the program's tiers, numbered from 1. Memberships point at a tier by number, so
 * a tier some membership holds may change the case of its name but not be removed or renamed:
 * that would silently move its customers to another tier. The tier rows are locked first, which
 * also blocks a concurrent link from starting to hold one of them until this commits.
 */
export async function replaceTiers(
  trx: Transaction<Database>,
  orgId: number,
  programId: number,
  names: string[],
): Promise<TierReplacement> {
  const existing = await trx
    .selectFrom('partner_program_tiers')
    .select(['number', 'name'])
    .where('org_id', '=', orgId)
    .where('partner_program_id', '=', programId)
    .orderBy('number')
    .forUpdate()
    .execute();
  if (existing.length === names.length && existing.every((tier, i) => tier.name === names[i])) return 'saved';

  const heldRows = await trx
    .selectFrom('memberships')
    .select('tier_number')
    .distinct()
    .where('org_id', '=', orgId)
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
      .where('org_id', '=', orgId)
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
      .where('org_id', '=', orgId)
      .where('partner_program_id', '=', programId)
      .where('number', '=', sql<number>`any(${renamed.map((tier) => tier.number)}::int[])`)
      .execute();
  }
  if (names.length > 0) {
    await trx
      .insertInto('partner_program_tiers')
      .values(names.map((name, i) => ({ org_id: orgId, partner_program_id: programId, number: i + 1, name })))
      .onConflict((oc) =>
        oc.columns(['org_id', 'partner_program_id', 'number']).doUpdateSet({ name: (eb) => eb.ref('excluded.name') }),
      )
      .execute();
  }
  return 'saved';
}
