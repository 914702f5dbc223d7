import type { Temporal } from 'temporal-polyfill';
import type { Cycle, ProgramType } from './program.js';

export type MembershipState = 'LINKED' | 'DELINKED' | 'SCHEDULED' | 'ACTIVE' | 'EXPIRED';
export type ActivitySource = 'API' | 'JOB';

export type ActivityType =
  | 'ENROLLMENT'
  | 'UPGRADE'
  | 'DOWNGRADE'
  | 'RENEW'
  | 'UPDATE'
  | 'DELINKING'
  | 'SUPPLEMENTARY_MEMBERSHIP_STARTED'
  | 'SUPPLEMENTARY_MEMBERSHIP_EXPIRED'
  | 'SUPPLEMENTARY_MEMBERSHIP_EXPIRY_REMINDER'
  | 'RELINK_SCHEDULED'
  | 'RELINK_RESCHEDULED'
  | 'RELINK_CANCELLED'
  | 'PARTNER_PROGRAM_EARLY_EXPIRY'
  | 'BACKUP_SUPPLEMENTARY_MEMBERSHIP_STARTED';

/** One customer x partner program row; SUPPLEMENTARY rows carry a period and maybe a pending relink. */
export interface Membership {
  id: number | undefined;
  orgId: number;
  customerId: number;
  programId: number;
  programType: ProgramType;
  loyaltyProgramId: number;
  cycle: Cycle | null;
  partnerMembershipId: string | null;
  state: MembershipState;
  tierNumber: number | null;
  tierExpiry: Temporal.Instant | null;
  start: Temporal.Instant | null;
  end: Temporal.Instant | null;
  pendingRelinkStart: Temporal.Instant | null;
}

export interface Activity {
  customerId: number;
  programId: number;
  type: ActivityType;
  at: Temporal.Instant;
  source: ActivitySource;
  details?: Record<string, unknown>;
  /** In memory only: the membership as this change left it, for the change's event (SPEC §9.2). */
  membership?: Membership;
  /** In memory only: why a period started, for a job's SUPPLEMENTARY_MEMBERSHIP_STARTED event. */
  reason?: 'SCHEDULED_START' | 'RELINK';
}

/** Gives each activity that does not say otherwise `membership` as the state its change left. */
export function settle(activities: readonly Activity[], membership: Membership): Activity[] {
  return activities.map((a) => (a.membership ? a : { ...a, membership }));
}

/** Linked, as the rules mean it (SPEC §4 step 5): an open link, or a pending relink. */
export function isLinked(membership: Membership | undefined): boolean {
  if (!membership) return false;
  if (membership.programType === 'EXTERNAL') return membership.state === 'LINKED';
  return membership.state === 'SCHEDULED' || membership.state === 'ACTIVE' || membership.pendingRelinkStart !== null;
}

export function membershipKey(customerId: number, programId: number): string {
  return `${customerId}:${programId}`;
}

/** A membership with what the activity history shows of its program. */
export interface HistoryMembership {
  membership: Membership;
  loyaltyProgramName: string;
  programName: string;
  description: string | null;
  tierName: string | null;
  tierBased: boolean;
  /** The newest recorded activity, which orders the programs of the history. */
  lastActivity: { type: string; at: Temporal.Instant } | null;
}

export interface HistoryFilters {
  partnerProgramId?: number;
  partnerProgramType?: ProgramType;
}

export interface RecordedActivity {
  membershipId: number;
  type: string;
  at: Temporal.Instant;
}

/** The names a customer's membership is shown with. */
export interface MembershipLabels {
  programId: number;
  programName: string;
  tierName: string | null;
}
