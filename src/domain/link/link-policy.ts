import type { Temporal } from 'temporal-polyfill';
import type { BatchEntry, EntryContext } from '../batch/batch-runner.js';
import { orgFlag } from '../caller.js';
import { addCycle, isBeforeToday, readApiDate } from '../dates.js';
import { isLinked, type Activity } from '../../model/membership.js';
import type { PartnerProgram } from '../../model/program.js';
import type { EntryOutcome } from '../outcomes.js';
import { programAvailability } from '../program-rules.js';

/** One program entry of a link request, checked for shape only (the rules below decide the rest). */
export interface LinkEntry extends BatchEntry {
  membershipId?: string;
  tierName?: string;
  tierExpiry?: unknown;
  membershipStart?: unknown;
}

/**
 * Decides one link entry (SPEC §4), checks in the specified order, the first failure winning.
 * Records the change in the batch's working state through `context.save`.
 */
export function decideLink(entry: LinkEntry, context: EntryContext): EntryOutcome {
  const { now, org, customer } = context;
  // 1. The program itself.
  const program = context.program(entry.name);
  const unavailable = programAvailability(program, now);
  if (unavailable || !program) return unavailable ?? 'PROGRAM_NOT_FOUND';
  // 2. Enrolment in the program's loyalty program.
  if (!customer.loyaltyProgramIds.includes(program.loyaltyProgramId)) return 'NOT_ENROLLED';
  // 3. Date formats.
  const tierExpiry = readApiDate(entry.tierExpiry, org.timezone);
  const start = readApiDate(entry.membershipStart, org.timezone);
  if (tierExpiry === 'invalid' || start === 'invalid') return 'INVALID_DATE';
  // 4. Tier and date values.
  let tierNumber: number | null = null;
  if (entry.tierName !== undefined) {
    const wanted = entry.tierName.toLowerCase();
    const tier = program.tiers.find((t) => t.name.toLowerCase() === wanted);
    if (!tier) return 'TIER_NOT_FOUND';
    tierNumber = tier.number;
  }
  if (tierExpiry && isBeforeToday(tierExpiry, now, org.timezone)) return 'TIER_EXPIRY_IN_PAST';
  if (start && isBeforeToday(start, now, org.timezone)) return 'START_IN_PAST';
  if (start && program.expiryDate && isAfter(start, program.expiryDate)) return 'PROGRAM_EXPIRED';
  // 5. Already linked: only a SUPPLEMENTARY relink with a later start may go on.
  const current = context.membership(program.id);
  if (current && isLinked(current)) {
    if (program.type !== 'SUPPLEMENTARY' || !start) return 'ALREADY_LINKED';
    if (!orgFlag(org, 'ALLOW_MEMBERSHIP_RELINKING')) return 'RELINKING_DISABLED';
    if (!current.end || !isAfter(start, current.end)) return 'ALREADY_LINKED';
    const type = current.pendingRelinkStart ? 'RELINK_RESCHEDULED' : 'RELINK_SCHEDULED';
    context.save({ ...current, pendingRelinkStart: start }, [
      {
        customerId: customer.id,
        programId: program.id,
        type,
        at: now,
        source: 'API',
        details: { relinkStart: start.toString() },
      },
    ]);
    warnIfProgramEndsFirst(context, program, addCycle(start, program.cycle!, org.timezone), entry.echoName);
    return 'SUCCESS';
  }
  // 6. A new link (or a link again after delink or expiry, reusing the row).
  const membershipId = entry.membershipId ?? current?.partnerMembershipId ?? undefined;
  if (membershipId === undefined) return 'MISSING_MEMBERSHIP_ID';
  if (program.type === 'SUPPLEMENTARY' && program.oneSupplementaryProgramAtATime) {
    const holdsAnother = context
      .memberships()
      .some(
        (m) =>
          m.programId !== program.id &&
          m.programType === 'SUPPLEMENTARY' &&
          m.loyaltyProgramId === program.loyaltyProgramId &&
          isLinked(m),
      );
    if (holdsAnother) return 'ONE_SUPPLEMENTARY_AT_A_TIME';
  }
  // 7. Link.
  const periodStart = start ?? now;
  const base = {
    id: current?.id,
    orgId: org.id,
    customerId: customer.id,
    programId: program.id,
    programType: program.type,
    loyaltyProgramId: program.loyaltyProgramId,
    cycle: program.cycle,
    partnerMembershipId: membershipId,
    pendingRelinkStart: null,
  };
  const enrolled: Activity = {
    customerId: customer.id,
    programId: program.id,
    type: 'ENROLLMENT',
    at: now,
    source: 'API',
  };
  if (program.type === 'EXTERNAL') {
    const tier = tierNumber ?? (program.tiers.length > 0 ? 1 : null);
    context.save(
      { ...base, state: 'LINKED', tierNumber: tier, tierExpiry: tierExpiry ?? null, start: periodStart, end: null },
      [{ ...enrolled, details: { partnerMembershipId: membershipId, tierNumber: tier } }],
    );
    return 'SUCCESS';
  }
  const periodEnd = addCycle(periodStart, program.cycle!, org.timezone);
  const scheduled = isAfter(periodStart, now);
  const activities: Activity[] = [{ ...enrolled, details: { partnerMembershipId: membershipId } }];
  if (!scheduled) activities.push({ ...enrolled, type: 'SUPPLEMENTARY_MEMBERSHIP_STARTED', at: periodStart });
  context.save(
    {
      ...base,
      state: scheduled ? 'SCHEDULED' : 'ACTIVE',
      tierNumber: null,
      tierExpiry: null,
      start: periodStart,
      end: periodEnd,
    },
    activities,
  );
  warnIfProgramEndsFirst(context, program, periodEnd, entry.echoName);
  return 'SUCCESS';
}

function isAfter(a: Temporal.Instant, b: Temporal.Instant): boolean {
  return a.epochMilliseconds > b.epochMilliseconds;
}

/** Warning 1302: the link stands, but the program ends before the new period does. */
function warnIfProgramEndsFirst(
  context: EntryContext,
  program: PartnerProgram,
  periodEnd: Temporal.Instant,
  name: string,
) {
  if (!program.expiryDate || !isAfter(periodEnd, program.expiryDate)) return;
  context.warn({ outcome: 'PROGRAM_EXPIRES_BEFORE_MEMBERSHIP', programName: name });
}
