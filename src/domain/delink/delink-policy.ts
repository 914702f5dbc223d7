import type { BatchEntry, EntryContext } from '../batch/batch-runner.js';
import { isLinked, type Activity } from '../../model/membership.js';
import type { EntryOutcome } from '../outcomes.js';

/** One program entry of a delink request: only the program is named. */
export type DelinkEntry = BatchEntry;

/**
 * Decides one delink entry (SPEC §6): the program must exist and the customer be linked to it,
 * where "linked" includes an expired membership still waiting for its relink. Inactive or expired
 * programs are not refused: a customer can always leave. The row keeps its period, tier and
 * membership id as history; a later link reuses it.
 */
export function decideDelink(entry: DelinkEntry, context: EntryContext): EntryOutcome {
  const program = context.program(entry.name);
  if (!program) return 'PROGRAM_NOT_FOUND';
  const current = context.membership(program.id);
  if (!current || !isLinked(current)) return 'NOT_LINKED';

  const base = {
    customerId: current.customerId,
    programId: current.programId,
    at: context.now,
    source: 'API',
  } as const;
  const activities: Activity[] = [];
  // The pending relink goes with the membership, recorded on its own so the history shows it was dropped.
  if (current.pendingRelinkStart) {
    activities.push({
      ...base,
      type: 'RELINK_CANCELLED',
      details: { relinkStart: current.pendingRelinkStart.toString() },
    });
  }
  activities.push({ ...base, type: 'DELINKING', details: { previousState: current.state } });
  context.save({ ...current, state: 'DELINKED', pendingRelinkStart: null }, activities);
  return 'SUCCESS';
}
