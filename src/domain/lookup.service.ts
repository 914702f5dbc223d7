import type { DB } from '../db/database.js';
import { findCustomerByIdentifier } from '../db/repositories/customers.repository.js';
import { findMembershipLabels, findMembershipsOfCustomers } from '../db/repositories/memberships.repository.js';
import type { IdentifierName } from '../model/customer.js';
import type { Membership } from '../model/membership.js';
import type { Caller } from './caller.js';
import type { Clock } from './clock.js';
import { formatInZone } from './dates.js';
import { advanceMembership } from './timeline.js';

export interface LinkedPartnerProgram {
  partnerProgramId: number;
  partnerProgramName: string;
  partnerProgramType: Membership['programType'];
  linked: boolean;
  membershipState: Membership['state'];
  partnerMembershipId: string | null;
  partnerTierNumber: number | null;
  partnerTierName: string | null;
  partnerTierExpiryDate: string | null;
  partnerProgramMembershipStartDate: string | null;
  partnerProgramMembershipEndDate: string | null;
  pendingRelinkStartDate: string | null;
}

/** The id of the caller's org's customer that `identifierName` = `value` names, if any. */
export async function findCustomerId(
  deps: { db: DB },
  caller: Caller,
  identifierName: IdentifierName,
  value: string | number,
): Promise<number | undefined> {
  return (await findCustomerByIdentifier(deps.db, caller.org.id, identifierName, value))?.id;
}

/**
 * The customer view of SPEC §7a: every membership row, shown as it stands at the clock's now
 * (a period that fell due is shown started or expired even before the scheduler has run).
 */
export async function lookupCustomer(
  deps: { db: DB; clock: Clock },
  caller: Caller,
  identifierName: IdentifierName,
  value: string | number,
) {
  const customer = await findCustomerByIdentifier(deps.db, caller.org.id, identifierName, value);
  if (!customer) return undefined;
  const [memberships, labels] = await Promise.all([
    findMembershipsOfCustomers(deps.db, caller.org.id, [customer.id]),
    findMembershipLabels(deps.db, caller.org.id, customer.id),
  ]);
  const labelOf = new Map(labels.map((l) => [l.programId, l]));
  const now = deps.clock.now();
  const zone = caller.org.timezone;
  const show = (instant: Membership['start']) => (instant ? formatInZone(instant, zone) : null);
  const linkedPartnerPrograms: LinkedPartnerProgram[] = memberships
    .map((stored) => advanceMembership(stored, now, zone).membership)
    .sort((a, b) => a.programId - b.programId)
    .map((m) => ({
      partnerProgramId: m.programId,
      partnerProgramName: labelOf.get(m.programId)?.programName ?? '',
      partnerProgramType: m.programType,
      linked: m.state === 'LINKED' || m.state === 'SCHEDULED' || m.state === 'ACTIVE',
      membershipState: m.state,
      partnerMembershipId: m.partnerMembershipId,
      partnerTierNumber: m.tierNumber,
      partnerTierName: labelOf.get(m.programId)?.tierName ?? null,
      partnerTierExpiryDate: show(m.tierExpiry),
      partnerProgramMembershipStartDate: show(m.start),
      partnerProgramMembershipEndDate: show(m.end),
      pendingRelinkStartDate: show(m.pendingRelinkStart),
    }));
  return {
    customer: {
      id: customer.id,
      mobile: customer.mobile ?? '',
      email: customer.email ?? '',
      externalId: customer.externalId ?? '',
      loyaltyProgramIds: customer.loyaltyProgramIds,
    },
    linkedPartnerPrograms,
    warnings: [] as unknown[],
  };
}
