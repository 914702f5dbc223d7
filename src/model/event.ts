import type { Temporal } from 'temporal-polyfill';

/** The events of SPEC §9.1, in the table's order. */
export const EVENT_NAMES = [
  'partnerProgramLinked',
  'partnerProgramRelinkScheduled',
  'partnerProgramUpdated',
  'partnerProgramRelinkCancelled',
  'partnerProgramDelinked',
  'supplementaryMembershipStarted',
  'supplementaryMembershipExpired',
  'supplementaryMembershipExpiryReminder',
] as const;

export type EventName = (typeof EVENT_NAMES)[number];
export type EventSource = 'API' | 'JOB' | 'CONSOLE';

export function isEventName(value: string): value is EventName {
  return (EVENT_NAMES as readonly string[]).includes(value);
}

/** An event about to be written to the outbox with the change it describes. */
export interface NewEvent {
  id: string;
  orgId: number;
  name: EventName;
  customerId: number;
  /** The instant the change took effect (a job's change: when it fell due). */
  createdAt: Temporal.Instant;
  source: EventSource;
  apiRequestId: string | null;
  /** The payload's `data`, as JSON text. */
  data: string;
}

/** An event as stored: the outbox row, in the order of its creation (`seq`). */
export interface StoredEvent {
  seq: number;
  id: string;
  orgId: number;
  name: EventName;
  customerId: number | null;
  createdAt: Temporal.Instant;
  source: EventSource;
  apiRequestId: string | null;
  data: string;
}

/** `<orgId>_` and 12 lower-case hex digits, unique per event: derived from the outbox's sequence. */
export function refIdOf(event: Pick<StoredEvent, 'orgId' | 'seq'>): string {
  return `${event.orgId}_${event.seq.toString(16).padStart(12, '0')}`;
}

/**
 * The event's wire body (SPEC §9.2) as JSON text, the same bytes on every attempt: the stored
 * `data` text is spliced in as it was written.
 */
export function eventBody(event: StoredEvent): string {
  const head = JSON.stringify({
    eventId: event.id,
    eventName: event.name,
    orgId: event.orgId,
    refId: refIdOf(event),
    apiRequestId: event.apiRequestId,
    createdAt: new Date(event.createdAt.epochMilliseconds).toISOString(),
    source: event.source,
  });
  return `${head.slice(0, -1)},"data":${event.data}}`;
}

export type DeliveryStatus = 'PENDING' | 'SUCCEEDED' | 'FAILED';

/** A webhook subscription as the service keeps it (secret and header values only when opened). */
export interface Subscription {
  id: number;
  orgId: number;
  name: string;
  url: string;
  /** Names of §9.1, or ["*"]. */
  events: string[];
  active: boolean;
  headerNames: string[];
}

/**
 * After failed attempt n of a schedule (1-based), the next is due this long after that attempt
 * ended (SPEC §9.4); after the 8th failure the delivery is FAILED.
 */
export const RETRY_DELAYS_MS = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000] as const;
export const ATTEMPTS_PER_SCHEDULE = RETRY_DELAYS_MS.length + 1;
