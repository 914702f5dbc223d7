import {
  dueRemindersBatch,
  dueTransitionsBatch,
  expireProgramsBatch,
  orgsWithDueWork,
  type DueWorkBatch,
  type DueWorkDependencies,
} from '../domain/due-work.js';

export interface SweepDependencies extends DueWorkDependencies {
  /**
   * Batches in flight at once per sweep, each in its own transaction on its own connection
   * (default 1). SKIP LOCKED keeps them disjoint; with two or more, the database works on one
   * batch while this process builds the next one's changes and events.
   */
  lanes?: number;
}

/** How many memberships each sweep changed (or reminders it recorded). */
export interface SweepReport {
  programExpiries: number;
  transitions: number;
  reminders: number;
}

/**
 * Everything that has fallen due, org by org, in the order that keeps it right after downtime:
 * programs that expired first (a membership of an expired program ends at the program's expiry,
 * not at its own later end), then starts, ends and relinks, then reminders of the periods still
 * open. Each sweep runs batch after batch until no more of the org's is due.
 */
export async function runDueWork(deps: SweepDependencies): Promise<SweepReport> {
  const report: SweepReport = { programExpiries: 0, transitions: 0, reminders: 0 };
  for (const orgId of await orgsWithDueWork(deps.db)) {
    report.programExpiries += await untilDone(deps, (d) => expireProgramsBatch(d, orgId));
    report.transitions += await untilDone(deps, (d) => dueTransitionsBatch(d, orgId));
    report.reminders += await untilDone(deps, (d) => dueRemindersBatch(d, orgId));
  }
  return report;
}

/**
 * Batch after batch until one takes less than a full batch. A customer another instance has
 * just handled may still be taken (its lock was released as this batch looked): it is re-read
 * under the lock, found with nothing due, and left unchanged, which is why the report counts
 * changes, not customers taken.
 */
async function untilDone(
  deps: SweepDependencies,
  batch: (deps: DueWorkDependencies) => Promise<DueWorkBatch>,
): Promise<number> {
  const lanes = deps.lanes ?? 1;
  // Room past what this instance's other lanes and as many of another instance's hold.
  const laneDeps: DueWorkDependencies = { ...deps, candidates: deps.batchSize * (2 * lanes + 1) };
  const lane = async () => {
    let changed = 0;
    for (;;) {
      const result = await batch(laneDeps);
      changed += result.changed;
      if (result.taken < deps.batchSize) return changed;
    }
  };
  const changed = await Promise.all(Array.from({ length: lanes }, lane));
  return changed.reduce((a, b) => a + b, 0);
}
