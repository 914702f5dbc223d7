import type { DB } from '../db/database.js';
import {
  findExpiredPrograms,
  findMembershipsForJob,
  lockCustomersInExpiredPrograms,
  lockCustomersWithDueTransitions,
  recordDueReminders,
} from '../db/repositories/jobs.repository.js';
import { saveMembershipChanges } from '../db/repositories/memberships.repository.js';
import type { Clock } from '../domain/clock.js';
import type { Activity, Membership } from '../domain/model.js';
import { expireCustomerMemberships } from '../domain/program-expiry.js';
import { advanceMembership } from '../domain/timeline.js';

export interface SweepDependencies {
  db: DB;
  clock: Clock;
  /** Customers (or reminders) handled per transaction. */
  batchSize: number;
}

/** How many memberships each sweep changed (or reminders it recorded). */
export interface SweepReport {
  programExpiries: number;
  transitions: number;
  reminders: number;
}

/** One batch: how many customers (or reminders) it took, and how many memberships it changed. */
interface BatchResult {
  taken: number;
  changed: number;
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
  const reminders = await untilDone(deps, async (d) => {
    const recorded = await recordDueReminders(d.db, d.clock.now(), d.batchSize);
    return { taken: recorded, changed: recorded };
  });
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
  batch: (deps: SweepDependencies) => Promise<BatchResult>,
): Promise<number> {
  let changed = 0;
  for (;;) {
    const result = await batch(deps);
    changed += result.changed;
    if (result.taken < deps.batchSize) return changed;
  }
}

/** Scheduled starts, ends and pending relinks whose instant has come. */
async function dueTransitionsBatch({ db, clock, batchSize }: SweepDependencies): Promise<BatchResult> {
  return db.transaction().execute(async (trx) => {
    const now = clock.now();
    const customerIds = await lockCustomersWithDueTransitions(trx, now, batchSize);
    const { memberships, timezones } = await findMembershipsForJob(trx, customerIds);
    const changed: Membership[] = [];
    const activities: Activity[] = [];
    for (const membership of memberships) {
      const advanced = advanceMembership(membership, now, timezones.get(membership.orgId) ?? 'UTC');
      if (advanced.activities.length === 0) continue;
      changed.push(advanced.membership);
      activities.push(...advanced.activities);
    }
    await saveMembershipChanges(trx, now, changed, activities);
    return { taken: customerIds.length, changed: changed.length };
  });
}

/** Open memberships and pending relinks of programs whose expiry date has come. */
async function expireProgramsBatch({ db, clock, batchSize }: SweepDependencies): Promise<BatchResult> {
  return db.transaction().execute(async (trx) => {
    const now = clock.now();
    const customerIds = await lockCustomersInExpiredPrograms(trx, now, batchSize);
    if (customerIds.length === 0) return { taken: 0, changed: 0 };
    const expired = new Map((await findExpiredPrograms(trx, now)).map((p) => [p.id, p]));
    const { memberships, timezones } = await findMembershipsForJob(trx, customerIds);
    const byCustomer = new Map<number, Membership[]>();
    for (const m of memberships) byCustomer.set(m.customerId, [...(byCustomer.get(m.customerId) ?? []), m]);
    const changed: Membership[] = [];
    const activities: Activity[] = [];
    for (const own of byCustomer.values()) {
      const result = expireCustomerMemberships(own, expired, now, timezones.get(own[0]!.orgId) ?? 'UTC');
      changed.push(...result.changed);
      activities.push(...result.activities);
    }
    await saveMembershipChanges(trx, now, changed, activities);
    return { taken: customerIds.length, changed: changed.length };
  });
}
