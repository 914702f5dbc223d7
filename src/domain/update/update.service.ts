import type { Caller } from '../caller.js';
import { runMembershipBatch, type BatchDependencies, type Warning } from '../batch/batch-runner.js';
import { decideUpdate } from './update-policy.js';
import { readUpdateItem } from './update-request.js';

export interface UpdateResult {
  httpStatus: 200 | 201 | 400 | 500;
  body: {
    customersPartnerUpdates: Array<{
      customer: Record<string, unknown>;
      partnerProgramUpdates: Array<{
        partnerProgramName: string;
        updateType: string;
        updateStatus: { status: boolean; code: number; message: string };
      }>;
    }>;
    warnings: Warning[];
  };
  fault?: unknown;
  /** Nothing was written; the answer asks for a retry. */
  rolledBack?: true;
}

/** The Update use case (SPEC §5): each item's entries decided by `decideUpdate`, set-based. */
export async function updateCustomers(
  deps: BatchDependencies,
  caller: Caller,
  items: readonly unknown[],
): Promise<UpdateResult> {
  const outcome = await runMembershipBatch(deps, caller, items.map(readUpdateItem), decideUpdate);
  return {
    httpStatus: outcome.httpStatus,
    fault: outcome.fault,
    rolledBack: outcome.rolledBack,
    body: {
      customersPartnerUpdates: outcome.items.map((item) => ({
        customer: item.customer,
        partnerProgramUpdates: item.entries.map(({ entry, status }) => ({
          partnerProgramName: entry.echoName,
          updateType: entry.echoType,
          updateStatus: status,
        })),
      })),
      warnings: outcome.warnings,
    },
  };
}
