import {
  dueRemindersBatch,
  dueTransitionsBatch,
  expireProgramsBatch,
  type DueWorkBatch,
  type DueWorkDependencies,
} from '../domain/due-work.js';

export type SweepDependencies = DueWorkDependencies;

/** How many memberships each sweep changed (or reminders it recorded). */
export interface SweepReport {
  programExpiries: number;
  transitions: number;
  reminders: number;
}

/**
 * Everything that has fallen due, in the order that keeps it right after downtime: programs
 * that expired first (a membership of an expired program ends at the program's expiry, not at
 * its own later end), then starts, ends and relinks, then reminders of the periods still open.
 * Each sweep runs batch after batch until no more is due.
 */
export async function runDueWork(deps: SweepDependencies): Promise<SweepReport> {
  const programExpiries = await untilDone(deps, expireProgramsBatch);
  const transitions = await untilDone(deps, dueTransitionsBatch);
  const reminders = await untilDone(deps, dueRemindersBatch);
  return { programExpiries, transitions, reminders };
}

/**
 * Batch after batch until one takes less than a full batch. A customer another instance has
 * just handled may still be taken (its lock was released as this batch looked): it is re-read
 * under the lock, found with nothing due, and left unchanged, which is why the report counts
 * changes, not customers taken.
 */
async function untilDone(
  deps: SweepDependencies,
  batch: (deps: SweepDependencies) => Promise<DueWorkBatch>,
): Promise<number> {
  let changed = 0;
  for (;;) {
    const result = await batch(deps);
    changed += result.changed;
    if (result.taken < deps.batchSize) return changed;
  }
}
