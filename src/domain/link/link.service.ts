import type { Caller } from '../caller.js';
import { runMembershipBatch, type BatchDependencies, type Warning } from '../batch/batch-runner.js';
import { decideLink } from './link-policy.js';
import { readLinkItem } from './link-request.js';

export interface LinkResult {
  httpStatus: 200 | 201 | 400 | 500;
  body: {
    linkCustomers: Array<{
      customer: Record<string, unknown>;
      linkToPartnerPrograms: Array<{
        partnerProgramName: string;
        partnerLinkStatus: { status: boolean; code: number; message: string };
      }>;
    }>;
    warnings: Warning[];
  };
  fault?: unknown;
  /** Nothing was written; the answer asks for a retry. */
  rolledBack?: true;
}

/** The Link use case (SPEC §4): each item's entries decided by `decideLink`, set-based. */
export async function linkCustomers(
  deps: BatchDependencies,
  caller: Caller,
  items: readonly unknown[],
): Promise<LinkResult> {
  const outcome = await runMembershipBatch(deps, caller, items.map(readLinkItem), decideLink);
  return {
    httpStatus: outcome.httpStatus,
    fault: outcome.fault,
    rolledBack: outcome.rolledBack,
    body: {
      linkCustomers: outcome.items.map((item) => ({
        customer: item.customer,
        linkToPartnerPrograms: item.entries.map(({ entry, status }) => ({
          partnerProgramName: entry.echoName,
          partnerLinkStatus: status,
        })),
      })),
      warnings: outcome.warnings,
    },
  };
}
