import {
  runMembershipBatch,
  type AnswerRecording,
  type BatchDependencies,
  type BatchItem,
} from '../batch/batch-runner.js';
import type { Caller } from '../caller.js';
import { decideDelink, type DelinkEntry } from './delink-policy.js';

/** The Delink use case (SPEC §6): each item's entries decided by `decideDelink`, set-based. */
export function delinkCustomers(
  deps: BatchDependencies,
  caller: Caller,
  items: ReadonlyArray<BatchItem<DelinkEntry>>,
  recording?: AnswerRecording<DelinkEntry>,
) {
  return runMembershipBatch(deps, caller, items, decideDelink, recording);
}
