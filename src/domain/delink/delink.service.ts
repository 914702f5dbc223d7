import type { Caller } from '../caller.js';
import { runMembershipBatch, type BatchDependencies, type Warning } from '../batch/batch-runner.js';
import { decideDelink } from './delink-policy.js';
import { readDelinkItem } from './delink-request.js';

export interface DelinkResult {
  httpStatus: 200 | 201 | 400 | 500;
  body: {
    deLinkCustomers: Array<{
      customer: Record<string, unknown>;
      deLinkFromPartnerPrograms: Array<{
        partnerProgramName: string;
        partnerDeLinkStatus: { status: boolean; code: number; message: string };
      }>;
    }>;
    warnings: Warning[];
  };
  fault?: unknown;
  /** Nothing was written; the answer asks for a retry. */
  rolledBack?: true;
}

/** The Delink use case (SPEC §6): each item's entries decided by `decideDelink`, set-based. */
export async function delinkCustomers(
  deps: BatchDependencies,
  caller: Caller,
  items: readonly unknown[],
): Promise<DelinkResult> {
  const outcome = await runMembershipBatch(deps, caller, items.map(readDelinkItem), decideDelink);
  return {
    httpStatus: outcome.httpStatus,
    fault: outcome.fault,
    rolledBack: outcome.rolledBack,
    body: {
      deLinkCustomers: outcome.items.map((item) => ({
        customer: item.customer,
        deLinkFromPartnerPrograms: item.entries.map(({ entry, status }) => ({
          partnerProgramName: entry.echoName,
          partnerDeLinkStatus: status,
        })),
      })),
      warnings: outcome.warnings,
    },
  };
}
