import type { DB } from '../../db/database.js';
import {
  findMembershipsOfCustomers,
  lockCustomers,
  saveMembershipChanges,
} from '../../db/repositories/memberships.repository.js';
import { findProgramsByNames } from '../../db/repositories/programs.repository.js';
import type { Caller } from '../caller.js';
import type { Clock } from '../clock.js';
import { identifiersOf, indexCustomers } from '../customers.js';
import { CustomersBusyError } from '../errors.js';
import { membershipKey } from '../model.js';
import { batchHttpStatus, entryOutcomes, type EntryOutcome } from '../outcomes.js';
import { planLink, type LinkPlan } from './link-policy.js';
import { readLinkCustomer, type LinkCustomerRequest } from './link-request.js';

export interface LinkDependencies {
  db: DB;
  clock: Clock;
  lockTimeoutMs: number;
}

export interface LinkResult {
  httpStatus: 200 | 201 | 400 | 500;
  body: { linkCustomers: LinkPlan['results']; warnings: LinkPlan['warnings'] };
  /** Set when the service itself failed (every entry answered 2001); for the log. */
  fault?: unknown;
}

/**
 * The Link use case (SPEC §4). Set-based: programs are read once, the batch's customers are
 * locked and read in one statement, their memberships in another, every entry is decided in
 * memory in request order, and all changes are written in one statement. The whole batch is one
 * transaction, so a fault leaves nothing half-written.
 */
export async function linkCustomers(deps: LinkDependencies, caller: Caller, items: readonly unknown[]): Promise<LinkResult> {
  const requests = items.map(readLinkCustomer);
  const names = new Set<string>();
  for (const { programs } of requests) {
    for (const p of programs) if (!p.failure && !p.name.includes('\u0000')) names.add(p.name.toLowerCase());
  }
  const identifiers = identifiersOf(requests.flatMap((r) => (r.customer.ok && !r.customer.unmatchable ? [r.customer.query] : [])));

  try {
    const programs = await findProgramsByNames(deps.db, caller.org.id, [...names]);
    const plan = await deps.db.transaction().execute(async (trx) => {
      const now = deps.clock.now();
      const customers = await lockCustomers(trx, caller.org.id, identifiers, deps.lockTimeoutMs);
      const memberships = await findMembershipsOfCustomers(trx, caller.org.id, customers.map((c) => c.id));
      const decided = planLink(
        {
          now,
          org: caller.org,
          programs: new Map(programs.map((p) => [p.name.toLowerCase(), p])),
          customers: indexCustomers(customers),
          memberships: new Map(memberships.map((m) => [membershipKey(m.customerId, m.programId), m])),
        },
        requests,
      );
      await saveMembershipChanges(trx, caller.org.id, now, decided.changed, decided.activities);
      return decided;
    });
    return {
      httpStatus: batchHttpStatus(plan.entrySucceeded, false),
      body: { linkCustomers: plan.results, warnings: plan.warnings },
    };
  } catch (error) {
    const outcome: EntryOutcome = error instanceof CustomersBusyError ? 'CUSTOMER_BUSY' : 'INTERNAL_ERROR';
    return {
      httpStatus: outcome === 'CUSTOMER_BUSY' ? 400 : 500,
      body: { linkCustomers: requests.map((r) => failedItem(r, outcome)), warnings: [] },
      fault: outcome === 'INTERNAL_ERROR' ? error : undefined,
    };
  }
}

/** Nothing was written: every entry carries the same failure, the customer echoed as sent. */
function failedItem(request: LinkCustomerRequest, outcome: EntryOutcome) {
  const status = { status: false, code: entryOutcomes[outcome].code, message: entryOutcomes[outcome].message };
  return {
    customer: { ...request.customer.echo, status },
    linkToPartnerPrograms: request.programs.map((p) => ({ partnerProgramName: p.echoName, partnerLinkStatus: status })),
  };
}
