import type { DB } from '../db/database.js';
import { countPendingDeliveries } from '../db/repositories/event-log.repository.js';
import type { EventName, NewEvent } from '../model/event.js';
import type { Activity } from '../model/membership.js';

/**
 * What the service counts for its operators (SPEC §2b). The use cases and the jobs report here;
 * src/http/metrics.ts keeps the counts for Prometheus. Every label is a closed set or a code:
 * nothing names a customer, an org or a program.
 */
export interface Telemetry {
  /** `count` program entries of a processed batch answered with `code`. */
  entries(endpoint: BatchEndpoint, code: number, count: number): void;
  /** `count` changes of this kind made by the scheduler, committed. */
  transitions(kind: TransitionKind, count: number): void;
  /** One webhook attempt answered (2xx) or failed. */
  deliveryAttempt(outcome: DeliveryOutcome): void;
  /** `count` events of this name written by a committed transaction. */
  eventsCreated(name: EventName, count: number): void;
}

export const BATCH_ENDPOINTS = ['link', 'update', 'delink'] as const;
export type BatchEndpoint = (typeof BATCH_ENDPOINTS)[number];

export const TRANSITION_KINDS = [
  'period_started',
  'relink_activated',
  'period_expired',
  'program_expired',
  'backup_started',
  'reminder',
] as const;
export type TransitionKind = (typeof TRANSITION_KINDS)[number];

export const DELIVERY_OUTCOMES = ['succeeded', 'failed'] as const;
export type DeliveryOutcome = (typeof DELIVERY_OUTCOMES)[number];

/** For whoever counts nothing: `jobs run --once`, tools, tests that do not look. */
export const noTelemetry: Telemetry = {
  entries: () => {},
  transitions: () => {},
  deliveryAttempt: () => {},
  eventsCreated: () => {},
};

/** The scheduler transition an activity records, if it is one (a cancelled relink is not). */
export function transitionKindOf(activity: Activity): TransitionKind | undefined {
  switch (activity.type) {
    case 'SUPPLEMENTARY_MEMBERSHIP_STARTED':
      return activity.reason === 'RELINK' ? 'relink_activated' : 'period_started';
    case 'SUPPLEMENTARY_MEMBERSHIP_EXPIRED':
      return 'period_expired';
    case 'PARTNER_PROGRAM_EARLY_EXPIRY':
      return 'program_expired';
    case 'BACKUP_SUPPLEMENTARY_MEMBERSHIP_STARTED':
      return 'backup_started';
    case 'SUPPLEMENTARY_MEMBERSHIP_EXPIRY_REMINDER':
      return 'reminder';
    default:
      return undefined;
  }
}

/** Counts a committed transaction's events by name; call it only once the commit has succeeded. */
export function reportEvents(telemetry: Telemetry, events: readonly Pick<NewEvent, 'name'>[]): void {
  for (const [name, count] of tally(events.map((e) => e.name))) telemetry.eventsCreated(name, count);
}

/** Counts a committed scheduler transaction: its transitions by kind and its events by name. */
export function reportJob(
  telemetry: Telemetry,
  activities: readonly Activity[],
  events: readonly Pick<NewEvent, 'name'>[],
): void {
  const kinds = activities.map(transitionKindOf).filter((kind) => kind !== undefined);
  for (const [kind, count] of tally(kinds)) telemetry.transitions(kind, count);
  reportEvents(telemetry, events);
}

/**
 * Deliveries still PENDING, in every org: the webhook backlog, read when metrics are scraped.
 * It counts the rows of the partial index `deliveries_due` alone.
 */
export function pendingDeliveries(db: DB): Promise<number> {
  return countPendingDeliveries(db);
}

function tally<T>(values: readonly T[]): Map<T, number> {
  const counts = new Map<T, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}
