import type { Temporal } from 'temporal-polyfill';
import type { DB } from '../db/database.js';
import { findActivitiesOfMemberships, findHistoryMemberships } from '../db/repositories/activity-history.repository.js';
import { findCustomerByIdentifier } from '../db/repositories/customers.repository.js';
import type { IdentifierName } from '../model/customer.js';
import type { HistoryFilters, HistoryMembership, Membership } from '../model/membership.js';
import type { Caller } from './caller.js';
import type { Clock } from './clock.js';
import { advanceMembership } from './timeline.js';

export type HistoryActivityType = 'LINKINGUPDATES' | 'BENEFITSAVAILED';

/** Capillary spells the type three ways (LINKINGUPDATES, LINKING_UPDATES, linkingUpdates): all are one. */
export function readActivityType(text: string | undefined): HistoryActivityType | undefined {
  const key = text?.replaceAll('_', '').toUpperCase();
  return key === 'LINKINGUPDATES' || key === 'BENEFITSAVAILED' ? key : undefined;
}

export interface HistoryQuery extends HistoryFilters {
  identifierName: IdentifierName;
  identifierValue: string;
  activityType: HistoryActivityType;
  limit: number;
  offset: number;
}

export interface ShownActivity {
  type: string;
  at: Temporal.Instant;
}

/** One program of the history as it stands at the clock's now. */
interface ProgramNow {
  row: HistoryMembership;
  membership: Membership;
  /** Transitions that fell due but are not recorded yet, newest first. */
  due: ShownActivity[];
  last: ShownActivity;
}

/** One program of a history page: its row, the membership as it stands now, its activities newest first. */
export interface ProgramHistory {
  row: HistoryMembership;
  membership: Membership;
  last: ShownActivity;
  activities: ShownActivity[];
}

/** A page of programs, and how many programs the customer's history has in all. */
export interface HistoryPage {
  total: number;
  programs: ProgramHistory[];
}

/**
 * The activity history of SPEC §7: one entry per program the customer has a membership in, most
 * recently changed first, paged by program. Each membership is brought up to now in memory, so
 * the history agrees with the customer lookup before the scheduler has run. Undefined when the
 * customer is not in the caller's org.
 */
export async function customerActivityHistory(
  deps: { db: DB; clock: Clock },
  caller: Caller,
  query: HistoryQuery,
): Promise<HistoryPage | undefined> {
  const orgId = caller.org.id;
  const value = query.identifierName === 'id' ? Number(query.identifierValue) : query.identifierValue;
  const customer = await findCustomerByIdentifier(deps.db, orgId, query.identifierName, value);
  if (!customer) return undefined;
  // Benefits do not exist yet, so no customer has availed one.
  if (query.activityType === 'BENEFITSAVAILED') return { total: 0, programs: [] };

  const now = deps.clock.now();
  const zone = caller.org.timezone;
  // One snapshot for both reads: a transition the scheduler records between them would
  // otherwise show twice (once recorded, once computed as due).
  const { total, page, activities } = await deps.db
    .transaction()
    .setIsolationLevel('repeatable read')
    .execute(async (trx) => {
      const rows = await findHistoryMemberships(trx, orgId, customer.id, query);
      const programs = rows
        .map((row) => programNow(row, now, zone))
        .filter((p): p is ProgramNow => p !== undefined)
        .sort(byMostRecentChange);
      const page = programs.slice(query.offset, query.offset + query.limit);
      const ids = page.map((p) => p.membership.id).filter((id): id is number => id !== undefined);
      return { total: programs.length, page, activities: await findActivitiesOfMemberships(trx, orgId, ids) };
    });

  const recorded = new Map<number, ShownActivity[]>();
  for (const a of activities) {
    const list = recorded.get(a.membershipId) ?? [];
    list.push({ type: a.type, at: a.at });
    recorded.set(a.membershipId, list);
  }
  return {
    total,
    programs: page.map((p) => ({
      row: p.row,
      membership: p.membership,
      last: p.last,
      // Due transitions come after everything recorded, so they win ties; the sort is stable.
      activities: [...p.due, ...(recorded.get(p.membership.id ?? 0) ?? [])].sort(
        (a, b) => b.at.epochMilliseconds - a.at.epochMilliseconds,
      ),
    })),
  };
}

function programNow(row: HistoryMembership, now: Temporal.Instant, zone: string): ProgramNow | undefined {
  const advanced = advanceMembership(row.membership, now, zone);
  const due = advanced.activities.map((a) => ({ type: a.type, at: a.at })).reverse();
  const newestDue = due[0];
  const last =
    newestDue && (!row.lastActivity || !isBefore(newestDue.at, row.lastActivity.at)) ? newestDue : row.lastActivity;
  // A membership without any activity cannot come from the API; it has no history to show.
  return last ? { row, membership: advanced.membership, due, last } : undefined;
}

function byMostRecentChange(a: ProgramNow, b: ProgramNow): number {
  const byInstant = b.last.at.epochMilliseconds - a.last.at.epochMilliseconds;
  return byInstant !== 0 ? byInstant : a.membership.programId - b.membership.programId;
}

function isBefore(a: Temporal.Instant, b: Temporal.Instant): boolean {
  return a.epochMilliseconds < b.epochMilliseconds;
}
