import type { Temporal } from 'temporal-polyfill';
import { orgFlag, type OrgContext } from '../caller.js';
import { customerEcho, resolveCustomer, type CustomerIndex, type StoredCustomer } from '../customers.js';
import { addCycle, isBeforeToday, parseApiDate } from '../dates.js';
import { isLinked, membershipKey, type Activity, type Membership, type PartnerProgram } from '../model.js';
import { customerStatus, entryStatus, warningOutcomes, type EntryOutcome } from '../outcomes.js';
import { advanceMembership } from '../timeline.js';
import type { LinkCustomerRequest, LinkProgramRequest } from './link-request.js';

export interface LinkState {
  now: Temporal.Instant;
  org: OrgContext;
  /** Programs named by the request, by lower-cased name. */
  programs: ReadonlyMap<string, PartnerProgram>;
  customers: CustomerIndex;
  /** Every membership of the request's customers, by `membershipKey`. */
  memberships: ReadonlyMap<string, Membership>;
}

export interface Warning {
  status: false;
  code: number;
  message: string;
  customerIndex: number;
  partnerProgramName: string;
}

export interface LinkPlan {
  results: Array<{
    customer: Record<string, unknown>;
    linkToPartnerPrograms: Array<{
      partnerProgramName: string;
      partnerLinkStatus: { status: boolean; code: number; message: string };
    }>;
  }>;
  warnings: Warning[];
  entrySucceeded: boolean[];
  /** Final state of every membership the request changed. */
  changed: Membership[];
  activities: Activity[];
}

/**
 * Decides every entry of a link batch against a snapshot of the state, one entry after another
 * in request order (SPEC §4), as if each were its own call: a later entry sees what an earlier
 * one did. Pure: the caller loads the snapshot and writes `changed` and `activities`.
 */
export function planLink(state: LinkState, requests: readonly LinkCustomerRequest[]): LinkPlan {
  const { now, org } = state;
  const memberships = new Map(state.memberships);
  const changedKeys = new Set<string>();
  const activities: Activity[] = [];
  const plan: LinkPlan = { results: [], warnings: [], entrySucceeded: [], changed: [], activities };

  const save = (membership: Membership, newActivities: Activity[]) => {
    const key = membershipKey(membership.customerId, membership.programId);
    memberships.set(key, membership);
    changedKeys.add(key);
    activities.push(...newActivities);
  };

  // Whatever fell due before this request (a scheduled start, an end, a pending relink) happens first.
  for (const membership of state.memberships.values()) {
    const advanced = advanceMembership(membership, now, org.timezone);
    if (advanced.activities.length > 0) save(advanced.membership, advanced.activities);
  }

  requests.forEach((request, customerIndex) => {
    const parsed = request.customer;
    const resolution = parsed.ok ? resolveCustomer(parsed, state.customers) : ({ ok: false, outcome: parsed.outcome } as const);
    if (!resolution.ok) {
      const status = customerStatus(resolution.outcome);
      plan.results.push({
        customer: { ...parsed.echo, status },
        linkToPartnerPrograms: request.programs.map((p) => ({
          partnerProgramName: p.echoName,
          partnerLinkStatus: { status: false, code: status.code, message: status.message },
        })),
      });
      plan.entrySucceeded.push(...(request.programs.length > 0 ? request.programs.map(() => false) : [false]));
      return;
    }
    const customer = resolution.customer;
    const entries = request.programs.map((programRequest) => {
      const outcome = linkOne(programRequest, customer, customerIndex);
      plan.entrySucceeded.push(outcome === 'SUCCESS');
      return { partnerProgramName: programRequest.echoName, partnerLinkStatus: entryStatus(outcome) };
    });
    plan.results.push({
      customer: { ...customerEcho(customer), status: customerStatus('FOUND') },
      linkToPartnerPrograms: entries,
    });
  });

  plan.changed = [...changedKeys].map((key) => memberships.get(key)!);
  return plan;

  function linkOne(request: LinkProgramRequest, customer: StoredCustomer, customerIndex: number): EntryOutcome {
    if (request.failure) return request.failure;
    // 1. The program itself.
    const program = state.programs.get(request.name.toLowerCase());
    if (!program) return 'PROGRAM_NOT_FOUND';
    if (!program.active) return 'PROGRAM_INACTIVE';
    if (program.expiryDate && program.expiryDate.epochMilliseconds <= now.epochMilliseconds) return 'PROGRAM_EXPIRED';
    // 2. Enrolment in the program's loyalty program.
    if (!customer.loyaltyProgramIds.includes(program.loyaltyProgramId)) return 'NOT_ENROLLED';
    // 3. Date formats.
    const tierExpiry = readDate(request.tierExpiry);
    const start = readDate(request.membershipStart);
    if (tierExpiry === 'invalid' || start === 'invalid') return 'INVALID_DATE';
    // 4. Tier and date values.
    let tierNumber: number | null = null;
    if (request.tierName !== undefined) {
      const wanted = request.tierName.toLowerCase();
      const tier = program.tiers.find((t) => t.name.toLowerCase() === wanted);
      if (!tier) return 'TIER_NOT_FOUND';
      tierNumber = tier.number;
    }
    if (tierExpiry && isBeforeToday(tierExpiry, now, org.timezone)) return 'TIER_EXPIRY_IN_PAST';
    if (start && isBeforeToday(start, now, org.timezone)) return 'START_IN_PAST';
    if (start && program.expiryDate && start.epochMilliseconds > program.expiryDate.epochMilliseconds) {
      return 'PROGRAM_EXPIRED';
    }
    // 5. Already linked: only a SUPPLEMENTARY relink with a later start may go on.
    const key = membershipKey(customer.id, program.id);
    const current = memberships.get(key);
    if (current && isLinked(current)) {
      if (program.type !== 'SUPPLEMENTARY' || !start) return 'ALREADY_LINKED';
      if (!orgFlag(org, 'ALLOW_MEMBERSHIP_RELINKING')) return 'RELINKING_DISABLED';
      if (!current.end || start.epochMilliseconds <= current.end.epochMilliseconds) return 'ALREADY_LINKED';
      const type = current.pendingRelinkStart ? 'RELINK_RESCHEDULED' : 'RELINK_SCHEDULED';
      save({ ...current, pendingRelinkStart: start }, [
        { customerId: customer.id, programId: program.id, type, at: now, source: 'API', details: { relinkStart: start.toString() } },
      ]);
      warnIfProgramEndsFirst(program, addCycle(start, program.cycle!, org.timezone), request, customerIndex);
      return 'SUCCESS';
    }
    // 6. A new link (or a link again after delink or expiry, reusing the row).
    const membershipId = request.membershipId ?? current?.partnerMembershipId ?? undefined;
    if (membershipId === undefined) return 'MISSING_MEMBERSHIP_ID';
    if (program.type === 'SUPPLEMENTARY' && program.oneSupplementaryProgramAtATime) {
      const holdsAnother = [...memberships.values()].some(
        (m) =>
          m.customerId === customer.id &&
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
      customerId: customer.id,
      programId: program.id,
      programType: program.type,
      loyaltyProgramId: program.loyaltyProgramId,
      cycle: program.cycle,
      partnerMembershipId: membershipId,
      pendingRelinkStart: null,
    };
    const enrolled: Activity = { customerId: customer.id, programId: program.id, type: 'ENROLLMENT', at: now, source: 'API' };
    if (program.type === 'EXTERNAL') {
      const tier = tierNumber ?? (program.tiers.length > 0 ? 1 : null);
      save(
        { ...base, state: 'LINKED', tierNumber: tier, tierExpiry: tierExpiry ?? null, start: periodStart, end: null },
        [{ ...enrolled, details: { partnerMembershipId: membershipId, tierNumber: tier } }],
      );
      return 'SUCCESS';
    }
    const periodEnd = addCycle(periodStart, program.cycle!, org.timezone);
    const scheduled = periodStart.epochMilliseconds > now.epochMilliseconds;
    const linkActivities: Activity[] = [{ ...enrolled, details: { partnerMembershipId: membershipId } }];
    if (!scheduled) {
      linkActivities.push({ ...enrolled, type: 'SUPPLEMENTARY_MEMBERSHIP_STARTED', at: periodStart });
    }
    save(
      { ...base, state: scheduled ? 'SCHEDULED' : 'ACTIVE', tierNumber: null, tierExpiry: null, start: periodStart, end: periodEnd },
      linkActivities,
    );
    warnIfProgramEndsFirst(program, periodEnd, request, customerIndex);
    return 'SUCCESS';
  }

  function readDate(value: unknown): Temporal.Instant | undefined | 'invalid' {
    if (value === undefined) return undefined;
    if (typeof value !== 'string') return 'invalid';
    return parseApiDate(value, org.timezone) ?? 'invalid';
  }

  function warnIfProgramEndsFirst(
    program: PartnerProgram,
    membershipEnd: Temporal.Instant,
    request: LinkProgramRequest,
    customerIndex: number,
  ) {
    if (!program.expiryDate || program.expiryDate.epochMilliseconds >= membershipEnd.epochMilliseconds) return;
    plan.warnings.push({
      status: false,
      ...warningOutcomes.PROGRAM_EXPIRES_BEFORE_MEMBERSHIP,
      customerIndex,
      partnerProgramName: request.echoName,
    });
  }
}

