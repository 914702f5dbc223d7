import type { Temporal } from 'temporal-polyfill';
import type { DB } from '../db/database.js';
import { findActivitiesOfMemberships, findHistoryMemberships } from '../db/repositories/activity-history.repository.js';
import { findCustomerByIdentifier } from '../db/repositories/customers.repository.js';
import type { IdentifierName } from '../model/customer.js';
import type { HistoryFilters, HistoryMembership, Membership } from '../model/membership.js';
import type { Caller } from './caller.js';
import type { Clock } from './clock.js';
import { formatUtc } from './dates.js';
import { historyOutcomes } from './outcomes.js';
import { advanceMembership } from './timeline.js';

/**
 * Codes of the activity history (reference §5.1, 2011–2015). They belong with the other tables
 * in outcomes.ts; they live here until that file takes them.
 */

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

interface ShownActivity {
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

/**
 * The activity history of SPEC §7: one entry per program the customer has a membership in, most
 * recently changed first, paged by program. Each membership is brought up to now in memory, so
 * the history agrees with the customer lookup before the scheduler has run. Undefined when the
 * customer is not in the caller's org.
 */
export async function customerActivityHistory(deps: { db: DB; clock: Clock }, caller: Caller, query: HistoryQuery) {
  const orgId = caller.org.id;
  const value = query.identifierName === 'id' ? Number(query.identifierValue) : query.identifierValue;
  const customer = await findCustomerByIdentifier(deps.db, orgId, query.identifierName, value);
  if (!customer) return undefined;
  const answer = (total: number, data: ReturnType<typeof entryOf>[]) => ({
    pagination: { limit: query.limit, offset: query.offset, total },
    data,
    warnings: [] as unknown[],
    errors: total === 0 ? [{ ...historyOutcomes.NO_ACTIVITY }] : [],
  });
  // Benefits do not exist yet, so no customer has availed one.
  if (query.activityType === 'BENEFITSAVAILED') return answer(0, []);

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
  return answer(
    total,
    page.map((p) => entryOf(p, recorded.get(p.membership.id ?? 0) ?? [])),
  );
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

function entryOf(program: ProgramNow, recorded: ShownActivity[]) {
  const { row, membership: m, last } = program;
  // Due transitions come after everything recorded, so they win ties; the sort is stable.
  const history = [...program.due, ...recorded].sort((a, b) => b.at.epochMilliseconds - a.at.epochMilliseconds);
  const utc = (instant: Temporal.Instant | null) => (instant ? formatUtc(instant) : null);
  return {
    partnerProgramDetails: {
      programName: row.loyaltyProgramName,
      partnerProgramId: m.programId,
      partnerProgramName: row.programName,
      partnerProgramDescription: row.description ?? '',
      partnerTierNumber: m.tierNumber,
      partnerTierName: row.tierName,
      partnerTierExpiryDate: utc(m.tierExpiry),
      partnerMembershipId: m.partnerMembershipId,
      partnerProgramType: m.programType,
      partnerProgramMembershipStartDate: utc(m.start),
      partnerProgramMembershipEndDate: utc(m.end),
      partnerProgramMembershipLastUpdatedDate: formatUtc(last.at),
      partnerProgramMembershipLastUpdatedActivity: last.type,
      benefitsSummary: [] as unknown[],
      linked: m.state === 'LINKED' || m.state === 'SCHEDULED' || m.state === 'ACTIVE',
      tierBased: row.tierBased,
    },
    customerActivityHistory: history.map((a) => ({ activityType: a.type, activityDate: formatUtc(a.at) })),
  };
}

function isBefore(a: Temporal.Instant, b: Temporal.Instant): boolean {
  return a.epochMilliseconds < b.epochMilliseconds;
}
