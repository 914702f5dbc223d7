import { sql, type Selectable, type Transaction } from 'kysely';
import type { Temporal } from 'temporal-polyfill';
import type { NewEvent } from '../../model/event.js';
import type { Activity, Membership, MembershipLabels } from '../../model/membership.js';
import type { DB } from '../database.js';
import { fromDateOrNull } from '../instants.js';
import type { Database, MembershipsTable } from '../schema.js';
import { eventsParameter, notifyIfDelivering, outboxCreated, outboxCtes } from './outbox.repository.js';

/** Every membership of the given customers, with the program facts the rules need. */
export async function findMembershipsOfCustomers(
  trx: Transaction<Database> | DB,
  orgId: number,
  customerIds: number[],
): Promise<Membership[]> {
  if (customerIds.length === 0) return [];
  const rows = await trx
    .selectFrom('memberships as m')
    .innerJoin('partner_programs as p', (join) =>
      join.onRef('p.org_id', '=', 'm.org_id').onRef('p.id', '=', 'm.partner_program_id'),
    )
    .selectAll('m')
    .select(['p.loyalty_program_id', 'p.cycle_unit', 'p.cycle_value'])
    .where('m.org_id', '=', orgId)
    .where('m.customer_id', '=', sql<number>`any(${customerIds}::bigint[])`)
    .execute();
  return rows.map(toMembership);
}

/** A customer's memberships, each with the names of its program and tier for display, in one statement. */
export async function findLabelledMemberships(
  db: DB,
  orgId: number,
  customerId: number,
): Promise<Array<{ membership: Membership } & Omit<MembershipLabels, 'programId'>>> {
  const rows = await db
    .selectFrom('memberships as m')
    .innerJoin('partner_programs as p', (join) =>
      join.onRef('p.org_id', '=', 'm.org_id').onRef('p.id', '=', 'm.partner_program_id'),
    )
    .leftJoin('partner_program_tiers as t', (join) =>
      join
        .onRef('t.org_id', '=', 'm.org_id')
        .onRef('t.partner_program_id', '=', 'm.partner_program_id')
        .onRef('t.number', '=', 'm.tier_number'),
    )
    .selectAll('m')
    .select(['p.loyalty_program_id', 'p.cycle_unit', 'p.cycle_value', 'p.name as program_name', 't.name as tier_name'])
    .where('m.org_id', '=', orgId)
    .where('m.customer_id', '=', customerId)
    .execute();
  return rows.map((r) => ({ membership: toMembership(r), programName: r.program_name, tierName: r.tier_name }));
}

/** A membership row joined with its program's loyalty program id and cycle. */
export function toMembership(r: MembershipRow): Membership {
  return {
    id: r.id,
    orgId: r.org_id,
    customerId: r.customer_id,
    programId: r.partner_program_id,
    programType: r.program_type,
    loyaltyProgramId: r.loyalty_program_id,
    cycle: r.cycle_unit && r.cycle_value ? { unit: r.cycle_unit, value: r.cycle_value } : null,
    partnerMembershipId: r.partner_membership_id,
    state: r.state,
    tierNumber: r.tier_number,
    tierExpiry: fromDateOrNull(r.tier_expiry_at),
    start: fromDateOrNull(r.start_at),
    end: fromDateOrNull(r.end_at),
    pendingRelinkStart: fromDateOrNull(r.pending_relink_start_at),
  };
}

export type MembershipRow = Selectable<MembershipsTable> & {
  loyalty_program_id: number;
  cycle_unit: 'DAYS' | 'MONTHS' | null;
  cycle_value: number | null;
};

/** Date#toISOString is an order of magnitude cheaper than Instant#toString (a hot path: every row of every batch). */
function iso(instant: Temporal.Instant | null): string | null {
  return instant === null ? null : new Date(instant.epochMilliseconds).toISOString();
}

/**
 * Writes the final state of changed memberships of one org, their activities and their events
 * (the outbox, SPEC §9) in one statement: an upsert keyed by (org, customer, program) feeding the
 * activity insert, so a new membership's id reaches its activities without another round trip.
 * Activities and events keep the order given. Every row is written with the org's id as a
 * parameter, so on a sharded database the statement names its one shard.
 */
export async function saveMembershipChanges(
  trx: Transaction<Database>,
  orgId: number,
  now: Temporal.Instant,
  memberships: readonly Membership[],
  activities: readonly Activity[],
  events: readonly NewEvent[] = [],
): Promise<void> {
  if (memberships.length === 0 && activities.length === 0) return;
  const rows = JSON.stringify(
    memberships.map((m) => ({
      customer_id: m.customerId,
      partner_program_id: m.programId,
      program_type: m.programType,
      partner_membership_id: m.partnerMembershipId,
      state: m.state,
      tier_number: m.tierNumber,
      tier_expiry_at: iso(m.tierExpiry),
      start_at: iso(m.start),
      end_at: iso(m.end),
      pending_relink_start_at: iso(m.pendingRelinkStart),
    })),
  );
  const changes = JSON.stringify(
    activities.map((a, ord) => ({
      ord,
      customer_id: a.customerId,
      partner_program_id: a.programId,
      activity_type: a.type,
      occurred_at: iso(a.at),
      source: a.source,
      details: a.details ?? {},
    })),
  );
  const at = new Date(now.epochMilliseconds).toISOString();
  const result = await sql<{ created: boolean }>`
    with input as (
      select * from jsonb_to_recordset(${rows}::jsonb) as r(
        customer_id bigint, partner_program_id bigint, program_type text, partner_membership_id text,
        state text, tier_number integer, tier_expiry_at timestamptz, start_at timestamptz,
        end_at timestamptz, pending_relink_start_at timestamptz)
    ), saved as (
      insert into memberships (org_id, customer_id, partner_program_id, program_type, partner_membership_id,
        state, tier_number, tier_expiry_at, start_at, end_at, pending_relink_start_at, created_at, updated_at)
      select ${orgId}::bigint, customer_id, partner_program_id, program_type, partner_membership_id, state,
        tier_number, tier_expiry_at, start_at, end_at, pending_relink_start_at, ${at}::timestamptz, ${at}::timestamptz
      from input
      on conflict (org_id, customer_id, partner_program_id) do update set
        partner_membership_id = excluded.partner_membership_id,
        state = excluded.state,
        tier_number = excluded.tier_number,
        tier_expiry_at = excluded.tier_expiry_at,
        start_at = excluded.start_at,
        end_at = excluded.end_at,
        pending_relink_start_at = excluded.pending_relink_start_at,
        updated_at = excluded.updated_at
      returning id, org_id, customer_id, partner_program_id
    ), changes as (
      select * from jsonb_to_recordset(${changes}::jsonb) as a(
        ord integer, customer_id bigint, partner_program_id bigint, activity_type text,
        occurred_at timestamptz, source text, details jsonb)
    ), recorded as (
      insert into membership_activities (org_id, membership_id, activity_type, occurred_at, source, details)
      select ${orgId}::bigint, saved.id, changes.activity_type, changes.occurred_at, changes.source, changes.details
      from changes join saved using (customer_id, partner_program_id)
      order by changes.ord
      returning 1
    ), ${outboxCtes(orgId, eventsParameter(events), at)}
    ${outboxCreated}`.execute(trx);
  await notifyIfDelivering(trx, result);
}
