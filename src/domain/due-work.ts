import type { DB } from '../db/database.js';
import {
  findMembershipsForJob,
  lockCustomersInExpiredPrograms,
  lockCustomersWithDueTransitions,
  recordDueReminders,
} from '../db/repositories/due-memberships.repository.js';
import { saveMembershipChanges } from '../db/repositories/memberships.repository.js';
import { findExpiredPrograms } from '../db/repositories/partner-programs.repository.js';
import type { Activity, Membership } from '../model/membership.js';
import type { Clock } from './clock.js';
import { expireCustomerMemberships } from './program-expiry.js';
import { advanceMembership } from './timeline.js';

/**
 * The scheduler's use cases: each handles one batch of what has fallen due, in one transaction,
 * locking the customers it takes with SKIP LOCKED so that several instances never take the same.
 */

export interface DueWorkDependencies {
  db: DB;
  clock: Clock;
  /** Customers (or reminders) handled per transaction. */
  batchSize: number;
}

/** One batch: how many customers (or reminders) it took, and how many memberships it changed. */
export interface DueWorkBatch {
  taken: number;
  changed: number;
}

/** Scheduled starts, ends and pending relinks whose instant has come. */
export async function dueTransitionsBatch({ db, clock, batchSize }: DueWorkDependencies): Promise<DueWorkBatch> {
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
export async function expireProgramsBatch({ db, clock, batchSize }: DueWorkDependencies): Promise<DueWorkBatch> {
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

/** Expiry reminders that have come due, recorded once each across all instances. */
export async function dueRemindersBatch({ db, clock, batchSize }: DueWorkDependencies): Promise<DueWorkBatch> {
  const recorded = await recordDueReminders(db, clock.now(), batchSize);
  return { taken: recorded, changed: recorded };
}
