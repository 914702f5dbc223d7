import type { Temporal } from 'temporal-polyfill';
import type { BatchEntry, EntryContext } from '../batch/batch-runner.js';
import { isBeforeToday, readApiDate } from '../dates.js';
import { isLinked, type ActivityType, type Membership } from '../../model/membership.js';
import type { PartnerProgram, Tier } from '../../model/program.js';
import type { EntryOutcome } from '../outcomes.js';

const UPDATE_TYPES = ['UPGRADE', 'DOWNGRADE', 'RENEW', 'UPDATE', 'MEMBERSHIP_RELINKING_CANCELLED'] as const;
type UpdateType = (typeof UPDATE_TYPES)[number];
type TierUpdateType = Exclude<UpdateType, 'MEMBERSHIP_RELINKING_CANCELLED'>;

/** The tier and tier expiry a tier update leaves the membership with. */
interface TierChange {
  tierNumber: number | null;
  tierExpiry: Temporal.Instant | null;
}

/** One program entry of an update request, checked for shape only (the rules below decide the rest). */
export interface UpdateEntry extends BatchEntry {
  /** `updateType` as sent, echoed in the response ("" when it was not a string). */
  echoType: string;
  /** `updateType` when it is a non-empty string; its validity is a rule, checked after the program. */
  updateType?: string;
  tierName?: string;
  /** Kept unparsed: the date format is a rule of the update types that use it. */
  tierExpiry?: string;
}

/**
 * Decides one update entry (SPEC §5), checks in the specified order, the first failure winning.
 * Records the change in the batch's working state through `context.save`. Unlike link, update
 * does not refuse inactive or expired programs (2020/2021): a membership that exists can still
 * be looked after.
 */
export function decideUpdate(entry: UpdateEntry, context: EntryContext): EntryOutcome {
  const program = context.program(entry.name);
  if (!program) return 'PROGRAM_NOT_FOUND';
  if (entry.updateType === undefined) return 'MISSING_UPDATE_TYPE';
  const type = updateTypeOf(entry.updateType);
  if (!type) return 'INVALID_UPDATE_TYPE';
  const current = context.membership(program.id);
  if (type === 'MEMBERSHIP_RELINKING_CANCELLED') return cancelRelink(current, context);

  if (!current || !hasOpenLink(current)) return 'NOT_LINKED';
  // SUPPLEMENTARY and non-tier-based EXTERNAL programs have no tier to change or renew.
  if (program.tiers.length === 0) return 'TIER_NOT_FOUND';
  const change = planTierChange(type, entry, program, current, context);
  if (typeof change === 'string') return change;
  context.save({ ...current, ...change }, [
    {
      customerId: current.customerId,
      programId: program.id,
      type: type satisfies ActivityType,
      at: context.now,
      source: 'API',
      details: {
        previousTierNumber: current.tierNumber,
        tierNumber: change.tierNumber,
        previousTierExpiryDate: current.tierExpiry?.toString() ?? null,
        tierExpiryDate: change.tierExpiry?.toString() ?? null,
      },
    },
  ]);
  return 'SUCCESS';
}

/** Update types are matched case-insensitively, like program and tier names (SPEC §3). */
function updateTypeOf(value: string): UpdateType | undefined {
  const upper = value.toUpperCase();
  return UPDATE_TYPES.find((t) => t === upper);
}

/** Linked for a tier update: an open link only; an expired period with a pending relink has no tier to change. */
function hasOpenLink(membership: Membership): boolean {
  return membership.state === 'LINKED' || membership.state === 'SCHEDULED' || membership.state === 'ACTIVE';
}

/** MEMBERSHIP_RELINKING_CANCELLED: "linked" includes an expired membership still waiting for its relink. */
function cancelRelink(current: Membership | undefined, context: EntryContext): EntryOutcome {
  if (!current || !isLinked(current)) return 'NOT_LINKED';
  if (!current.pendingRelinkStart) return 'NO_PENDING_RELINK';
  context.save({ ...current, pendingRelinkStart: null }, [
    {
      customerId: current.customerId,
      programId: current.programId,
      type: 'RELINK_CANCELLED',
      at: context.now,
      source: 'API',
      details: { relinkStart: current.pendingRelinkStart.toString() },
    },
  ]);
  return 'SUCCESS';
}

function planTierChange(
  type: TierUpdateType,
  entry: UpdateEntry,
  program: PartnerProgram,
  current: Membership,
  context: EntryContext,
): TierChange | EntryOutcome {
  switch (type) {
    case 'UPGRADE':
    case 'DOWNGRADE': {
      if (entry.tierName === undefined) return 'MISSING_TIER_NAME';
      const tier = findTier(program, entry.tierName);
      if (!tier) return 'TIER_NOT_FOUND';
      // A membership without a tier (the program gained tiers after the link) sits below tier 1.
      const from = current.tierNumber ?? 0;
      if (type === 'UPGRADE' ? tier.number <= from : tier.number >= from) return 'TIER_CHANGE_MISMATCH';
      const expiry = readExpiry(entry, context);
      if (typeof expiry === 'string') return expiry;
      return { tierNumber: tier.number, tierExpiry: expiry ?? current.tierExpiry };
    }
    case 'RENEW': {
      if (entry.tierExpiry === undefined) return 'MISSING_TIER_EXPIRY';
      const expiry = readExpiry(entry, context);
      if (typeof expiry === 'string') return expiry;
      if (entry.tierName !== undefined) {
        const tier = findTier(program, entry.tierName);
        if (!tier) return 'TIER_NOT_FOUND';
        if (tier.number !== current.tierNumber) return 'TIER_CHANGE_MISMATCH';
      }
      return { tierNumber: current.tierNumber, tierExpiry: expiry ?? current.tierExpiry };
    }
    case 'UPDATE': {
      if (entry.tierName === undefined && entry.tierExpiry === undefined) return 'MISSING_UPDATE_DETAILS';
      let tierNumber = current.tierNumber;
      if (entry.tierName !== undefined) {
        const tier = findTier(program, entry.tierName);
        if (!tier) return 'TIER_NOT_FOUND';
        tierNumber = tier.number;
      }
      const expiry = readExpiry(entry, context);
      if (typeof expiry === 'string') return expiry;
      return { tierNumber, tierExpiry: expiry ?? current.tierExpiry };
    }
  }
}

function findTier(program: PartnerProgram, name: string): Tier | undefined {
  const wanted = name.toLowerCase();
  return program.tiers.find((t) => t.name.toLowerCase() === wanted);
}

/** The optional new tier expiry: absent, an instant from today on, or the failure (2024, 2003). */
function readExpiry(entry: UpdateEntry, context: EntryContext): Temporal.Instant | undefined | EntryOutcome {
  const expiry = readApiDate(entry.tierExpiry, context.org.timezone);
  if (expiry === 'invalid') return 'INVALID_DATE';
  if (expiry && isBeforeToday(expiry, context.now, context.org.timezone)) return 'TIER_EXPIRY_IN_PAST';
  return expiry;
}
