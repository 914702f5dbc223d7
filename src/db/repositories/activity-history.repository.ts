import { sql, type Transaction } from 'kysely';
import type { HistoryFilters, HistoryMembership, RecordedActivity } from '../../model/membership.js';
import type { DB } from '../database.js';
import { fromDate } from '../instants.js';
import type { Database } from '../schema.js';
import { toMembership } from './memberships.repository.js';

type Reader = DB | Transaction<Database>;

/**
 * Every membership of one customer that passes the filters, with its program's labels and its
 * newest activity, in one statement however many programs the customer holds: the history
 * must know every program's latest change before it can page them.
 */
export async function findHistoryMemberships(
  db: Reader,
  orgId: number,
  customerId: number,
  filters: HistoryFilters,
): Promise<HistoryMembership[]> {
  let query = db
    .selectFrom('memberships as m')
    .innerJoin('partner_programs as p', (join) =>
      join.onRef('p.org_id', '=', 'm.org_id').onRef('p.id', '=', 'm.partner_program_id'),
    )
    .innerJoin('loyalty_programs as l', 'l.id', 'p.loyalty_program_id')
    .leftJoin('partner_program_tiers as t', (join) =>
      join
        .onRef('t.org_id', '=', 'm.org_id')
        .onRef('t.partner_program_id', '=', 'm.partner_program_id')
        .onRef('t.number', '=', 'm.tier_number'),
    )
    .leftJoinLateral(
      (eb) =>
        eb
          .selectFrom('membership_activities as a')
          .select(['a.activity_type', 'a.occurred_at'])
          .where('a.org_id', '=', orgId)
          .whereRef('a.membership_id', '=', 'm.id')
          .orderBy('a.occurred_at', 'desc')
          .orderBy('a.id', 'desc')
          .limit(1)
          .as('last'),
      (join) => join.onTrue(),
    )
    .selectAll('m')
    .select([
      'p.loyalty_program_id',
      'p.cycle_unit',
      'p.cycle_value',
      'p.name as program_name',
      'p.description',
      'l.name as loyalty_program_name',
      't.name as tier_name',
      'last.activity_type as last_activity_type',
      'last.occurred_at as last_occurred_at',
      sql<boolean>`exists (select 1 from partner_program_tiers pt where pt.org_id = ${orgId} and pt.partner_program_id = p.id)`.as(
        'tier_based',
      ),
    ])
    .where('m.org_id', '=', orgId)
    .where('m.customer_id', '=', customerId);
  if (filters.partnerProgramId !== undefined)
    query = query.where('m.partner_program_id', '=', filters.partnerProgramId);
  if (filters.partnerProgramType !== undefined) query = query.where('m.program_type', '=', filters.partnerProgramType);
  const rows = await query.execute();
  return rows.map((r) => ({
    membership: toMembership(r),
    loyaltyProgramName: r.loyalty_program_name,
    programName: r.program_name,
    description: r.description,
    tierName: r.tier_name,
    tierBased: r.tier_based,
    lastActivity:
      r.last_activity_type !== null && r.last_occurred_at !== null
        ? { type: r.last_activity_type, at: fromDate(r.last_occurred_at) }
        : null,
  }));
}

/** The activities of the given memberships, newest first (recording order breaks ties). */
export async function findActivitiesOfMemberships(
  db: Reader,
  orgId: number,
  membershipIds: readonly number[],
): Promise<RecordedActivity[]> {
  if (membershipIds.length === 0) return [];
  const rows = await db
    .selectFrom('membership_activities')
    .select(['membership_id', 'activity_type', 'occurred_at'])
    .where('org_id', '=', orgId)
    .where(sql<boolean>`membership_id = any(${[...membershipIds]}::bigint[])`)
    .orderBy('occurred_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
  return rows.map((r) => ({ membershipId: r.membership_id, type: r.activity_type, at: fromDate(r.occurred_at) }));
}
