import type { DB } from '../db/database.js';
import { findCustomerByIdentifier } from '../db/repositories/customers.repository.js';
import { findLabelledMemberships } from '../db/repositories/memberships.repository.js';
import type { IdentifierName, StoredCustomer } from '../model/customer.js';
import type { Membership } from '../model/membership.js';
import type { Caller } from './caller.js';
import type { Clock } from './clock.js';
import { advanceMembership } from './timeline.js';

/** A membership as it stands now, with the names the view shows beside it. */
export interface MembershipNow {
  membership: Membership;
  programName: string;
  tierName: string | null;
}

/** The customer with every membership row, as they stand at the clock's now, in program id order. */
export interface CustomerMemberships {
  customer: StoredCustomer;
  memberships: MembershipNow[];
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
): Promise<CustomerMemberships | undefined> {
  const customer = await findCustomerByIdentifier(deps.db, caller.org.id, identifierName, value);
  if (!customer) return undefined;
  const stored = await findLabelledMemberships(deps.db, caller.org.id, customer.id);
  const now = deps.clock.now();
  return {
    customer,
    memberships: stored
      .map(({ membership, programName, tierName }) => ({
        membership: advanceMembership(membership, now, caller.org.timezone).membership,
        programName,
        tierName,
      }))
      .sort((a, b) => a.membership.programId - b.membership.programId),
  };
}
