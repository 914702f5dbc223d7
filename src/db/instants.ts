import { Temporal } from 'temporal-polyfill';

/** The drivers speak `Date`; every repository takes and returns `Temporal.Instant`. */

/** Sub-millisecond precision is dropped: timestamptz keeps microseconds, the drivers milliseconds. */
export function toDate(instant: Temporal.Instant): Date {
  return new Date(instant.epochMilliseconds);
}

/** An invalid Date throws RangeError. */
export function fromDate(date: Date): Temporal.Instant {
  return Temporal.Instant.fromEpochMilliseconds(date.getTime());
}

export function fromDateOrNull(date: Date | null): Temporal.Instant | null {
  return date ? fromDate(date) : null;
}
