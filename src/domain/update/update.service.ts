import {
  runMembershipBatch,
  type AnswerRecording,
  type BatchDependencies,
  type BatchItem,
} from '../batch/batch-runner.js';
import type { Caller } from '../caller.js';
import { decideUpdate, type UpdateEntry } from './update-policy.js';

/** The Update use case (SPEC §5): each item's entries decided by `decideUpdate`, set-based. */
export function updateCustomers(
  deps: BatchDependencies,
  caller: Caller,
  items: ReadonlyArray<BatchItem<UpdateEntry>>,
  recording?: AnswerRecording<UpdateEntry>,
) {
  return runMembershipBatch(deps, caller, items, decideUpdate, recording);
}
