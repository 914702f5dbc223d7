import type { DB } from '../db/database.js';
import {
  findMembershipsForJob,
  lockCustomersInExpiredPrograms,
  lockCustomersWithDueTransitions,
  recordDueReminders,
  type JobMemberships,
} from '../db/repositories/due-memberships.repository.js';
import { insertEvents } from '../db/repositories/outbox.repository.js';
import type { NewEvent } from '../model/event.js';
import { saveMembershipChanges } from '../db/repositories/memberships.repository.js';
import { listOrgIds } from '../db/repositories/orgs.repository.js';
import { findExpiredPrograms } from '../db/repositories/partner-programs.repository.js';
import type { Activity, Membership } from '../model/membership.js';
import type { Clock } from './clock.js';
import { eventsOf } from './events.js';
import { expireCustomerMemberships } from './program-expiry.js';
import { noTelemetry, reportJob, type Telemetry } from './telemetry.js';
import { advanceMembership } from './timeline.js';

/**
 * The scheduler's use cases: each handles one batch of one org's due work, in one transaction,
 * locking the customers it takes with SKIP LOCKED so that several instances never take the same.
 * One org per batch keeps every statement on the org's shard when the database is sharded.
 */

export interface DueWorkDependencies {
  db: DB;
  clock: Clock;
  /** Customers (or reminders) handled per transaction. */
  batchSize: number;
  /**
   * Due items a batch considers before SKIP LOCKED leaves out those other batches hold (default
   * twice the batch): at least `batchSize` more than the batches that may run at once hold.
   */
  candidates?: number;
  /** Told of each batch's transitions and events once it has committed. */
  telemetry?: Telemetry;
}

/** One batch: how many customers (or reminders) it took, and how many memberships it changed. */
export interface DueWorkBatch {
  taken: number;
  changed: number;
}

/** Scheduled starts, ends and pending relinks whose instant has come. */
export async function dueTransitionsBatch(deps: DueWorkDependencies, orgId: number): Promise<DueWorkBatch> {
  const { db, clock, batchSize } = deps;
  const done = await db.transaction().execute(async (trx) => {
    const now = clock.now();
    const customerIds = await lockCustomersWithDueTransitions(
      trx,
      orgId,
      now,
      batchSize,
      deps.candidates ?? batchSize * 2,
    );
    const job = await findMembershipsForJob(trx, orgId, customerIds);
    const changed: Membership[] = [];
    const activities: Activity[] = [];
    for (const membership of job.memberships) {
      const advanced = advanceMembership(membership, now, job.timezones.get(membership.orgId) ?? 'UTC');
      if (advanced.activities.length === 0) continue;
      changed.push(advanced.membership);
      activities.push(...advanced.activities);
    }
    const events = jobEvents(activities, job);
    await saveMembershipChanges(trx, orgId, now, changed, activities, events);
    return { batch: { taken: customerIds.length, changed: changed.length }, activities, events };
  });
  return reported(deps, done);
}

/** The orgs the sweeps go through, one after another. */
export function orgsWithDueWork(db: DB): Promise<number[]> {
  return listOrgIds(db);
}

/** Open memberships and pending relinks of programs whose expiry date has come. */
export async function expireProgramsBatch(deps: DueWorkDependencies, orgId: number): Promise<DueWorkBatch> {
  const { db, clock, batchSize } = deps;
  const done = await db.transaction().execute(async (trx) => {
    const now = clock.now();
    const customerIds = await lockCustomersInExpiredPrograms(
      trx,
      orgId,
      now,
      batchSize,
      deps.candidates ?? batchSize * 2,
    );
    if (customerIds.length === 0) return { batch: { taken: 0, changed: 0 }, activities: [], events: [] };
    const expired = new Map((await findExpiredPrograms(trx, orgId, now)).map((p) => [p.id, p]));
    const job = await findMembershipsForJob(trx, orgId, customerIds);
    for (const { backup } of expired.values())
      if (backup && !job.programs.has(backup.id)) job.programs.set(backup.id, backup);
    const byCustomer = new Map<number, Membership[]>();
    for (const m of job.memberships) byCustomer.set(m.customerId, [...(byCustomer.get(m.customerId) ?? []), m]);
    const changed: Membership[] = [];
    const activities: Activity[] = [];
    for (const own of byCustomer.values()) {
      const result = expireCustomerMemberships(own, expired, now, job.timezones.get(own[0]!.orgId) ?? 'UTC');
      changed.push(...result.changed);
      activities.push(...result.activities);
    }
    const events = jobEvents(activities, job);
    await saveMembershipChanges(trx, orgId, now, changed, activities, events);
    return { batch: { taken: customerIds.length, changed: changed.length }, activities, events };
  });
  return reported(deps, done);
}

/** Expiry reminders that have come due, recorded once each across all instances, with their events. */
export async function dueRemindersBatch(deps: DueWorkDependencies, orgId: number): Promise<DueWorkBatch> {
  const { db, clock, batchSize } = deps;
  const done = await db.transaction().execute(async (trx) => {
    const now = clock.now();
    const recorded = await recordDueReminders(trx, orgId, now, batchSize);
    const activities: Activity[] = recorded.map((r) => ({
      customerId: r.membership.customerId,
      programId: r.membership.programId,
      type: 'SUPPLEMENTARY_MEMBERSHIP_EXPIRY_REMINDER',
      at: r.dueAt,
      source: 'JOB',
      details: { daysBeforeExpiry: r.daysBefore, scheduledExpiryDate: r.periodEnd.toString() },
      membership: r.membership,
    }));
    const events = eventsOf(activities, {
      timeZoneOf: (orgId) => recorded.find((r) => r.membership.orgId === orgId)?.timezone ?? 'UTC',
      customer: (id) => recorded.find((r) => r.customer.id === id)?.customer,
      program: (id) => {
        const r = recorded.find((x) => x.membership.programId === id);
        return (
          r && {
            id,
            name: r.programName,
            type: 'SUPPLEMENTARY',
            loyaltyProgramId: r.membership.loyaltyProgramId,
            tiers: [],
          }
        );
      },
      requestId: null,
      source: 'API',
    });
    await insertEvents(trx, orgId, now, events);
    return { batch: { taken: recorded.length, changed: recorded.length }, activities, events };
  });
  return reported(deps, done);
}

/** A committed batch: its transitions and events are reported now, not before the commit. */
function reported(
  { telemetry = noTelemetry }: DueWorkDependencies,
  done: { batch: DueWorkBatch; activities: readonly Activity[]; events: readonly NewEvent[] },
): DueWorkBatch {
  reportJob(telemetry, done.activities, done.events);
  return done.batch;
}

/** The events of a job's changes: every one is the scheduler's (source JOB). */
function jobEvents(activities: readonly Activity[], job: JobMemberships): NewEvent[] {
  return eventsOf(activities, {
    timeZoneOf: (orgId) => job.timezones.get(orgId) ?? 'UTC',
    customer: (id) => job.customers.get(id),
    program: (id) => job.programs.get(id),
    requestId: null,
    source: 'API',
  });
}
