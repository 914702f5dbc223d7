import {
  runMembershipBatch,
  type AnswerRecording,
  type BatchDependencies,
  type BatchItem,
} from '../batch/batch-runner.js';
import type { Caller } from '../caller.js';
import { decideLink, type LinkEntry } from './link-policy.js';

/** The Link use case (SPEC §4): each item's entries decided by `decideLink`, set-based. */
export function linkCustomers(
  deps: BatchDependencies,
  caller: Caller,
  items: ReadonlyArray<BatchItem<LinkEntry>>,
  recording?: AnswerRecording<LinkEntry>,
) {
  return runMembershipBatch(deps, caller, items, decideLink, recording);
}
