import { Temporal } from 'temporal-polyfill';
import type { Cycle } from '../model/program.js';

// One grammar for every accepted form: a date, optionally followed by a time
// (HH:mm, HH:mm:ss or HH:mm:ss.f{1,9}) after a `T` or one space (RFC 3339 §5.6
// allows the space), optionally followed by an offset.
// Range checks on the calendar fields are left to Temporal (overflow: 'reject');
// the offset is range-checked here because an out-of-range offset is not a
// calendar error but would make Temporal throw on the zone instead.
const API_DATE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?: *([Zz]|[+-](?:[01]\d|2[0-3])(?::?[0-5]\d)?))?)?$/;

/**
 * Parses an API date (surrounding whitespace is trimmed):
 *  - date-time (`T` or one space between date and time) with offset (Z, +05:30, +0530, +05;
 *    spaces before the offset tolerated) → that instant;
 *  - date-time without offset → read on the wall clock of `timeZone` ('compatible' disambiguation);
 *  - date only → the start of that day in `timeZone`.
 * Returns undefined for anything else, including impossible calendar values.
 * An invalid `timeZone` is a caller error, not an input error: when the zone is needed, RangeError is thrown.
 */
export function parseApiDate(text: string, timeZone: string): Temporal.Instant | undefined {
  const m = API_DATE.exec(text.trim());
  if (!m) return undefined;
  const [, year, month, day, hour, minute, second, fraction, offset] = m;

  const date = { year: Number(year), month: Number(month), day: Number(day) };
  if (hour === undefined) {
    const plainDate = tryBuild(() => Temporal.PlainDate.from(date, { overflow: 'reject' }));
    // Without a time, PlainDate#toZonedDateTime uses start-of-day semantics, so a
    // day that starts in a DST gap (e.g. America/Sao_Paulo 2018-11-04) begins at 01:00.
    return plainDate?.toZonedDateTime(timeZone).toInstant();
  }

  const nanos = (fraction ?? '').padEnd(9, '0');
  const dateTime = tryBuild(() =>
    Temporal.PlainDateTime.from(
      {
        ...date,
        hour: Number(hour),
        minute: Number(minute),
        second: Number(second ?? 0),
        millisecond: Number(nanos.slice(0, 3)),
        microsecond: Number(nanos.slice(3, 6)),
        nanosecond: Number(nanos.slice(6, 9)),
      },
      { overflow: 'reject' },
    ),
  );
  if (!dateTime) return undefined;
  const zone = offset === undefined ? timeZone : offsetZone(offset);
  return dateTime.toZonedDateTime(zone, { disambiguation: 'compatible' }).toInstant();
}

/** Runs a Temporal constructor, mapping its RangeError for impossible values to undefined. */
function tryBuild<T>(build: () => T): T | undefined {
  try {
    return build();
  } catch (error) {
    if (error instanceof RangeError) return undefined;
    throw error;
  }
}

/** 'Z' | '+05' | '+0530' | '+05:30' → a Temporal offset time zone id ('UTC' | '+05:00' | '+05:30'). */
function offsetZone(offset: string): string {
  if (offset.toUpperCase() === 'Z') return 'UTC';
  const digits = offset.slice(1).replace(':', '');
  return `${offset[0]}${digits.slice(0, 2)}:${digits.slice(2) || '00'}`;
}

/** True when the calendar date of `instant` in `timeZone` is before the calendar date of `now` there. */
export function isBeforeToday(instant: Temporal.Instant, now: Temporal.Instant, timeZone: string): boolean {
  const day = instant.toZonedDateTimeISO(timeZone).toPlainDate();
  const today = now.toZonedDateTimeISO(timeZone).toPlainDate();
  return Temporal.PlainDate.compare(day, today) < 0;
}

/**
 * start + cycle on the wall clock of `timeZone`. ZonedDateTime#add does exactly what the
 * business rule wants: days keep the local time across DST changes, and months clamp to
 * the last day of a shorter month (the default overflow is 'constrain').
 */
export function addCycle(start: Temporal.Instant, cycle: Cycle, timeZone: string): Temporal.Instant {
  if (!Number.isSafeInteger(cycle.value) || cycle.value < 1) {
    throw new RangeError(`Cycle value must be a positive integer, got ${cycle.value}`);
  }
  const fast = addCycleAwayFromTransitions(start.epochMilliseconds, cycle, timeZone);
  if (fast !== undefined) return Temporal.Instant.fromEpochMilliseconds(fast);
  const duration = cycle.unit === 'DAYS' ? { days: cycle.value } : { months: cycle.value };
  return start.toZonedDateTimeISO(timeZone).add(duration).toInstant();
}

/** Further than any zone's offset ever jumps at once: no transition this close means no gap or overlap. */
const TRANSITION_MARGIN_MS = 3 * 60 * 60 * 1000;

/**
 * addCycle on millisecond arithmetic, the same answer as ZonedDateTime#add where it is cheap to be
 * sure of it (a hot path: every period the scheduler starts): the wall clock is read with the
 * cached offset, the cycle added to it as Date's UTC fields do (months clamp to the shorter
 * month's last day, as Temporal's 'constrain'), and the result taken only when the zone's offset
 * is the same at it and on either side of it, so the new wall time is neither in a gap nor in an
 * overlap. Otherwise undefined, and Temporal decides. Dates outside Date's range are not expected.
 */
function addCycleAwayFromTransitions(ms: number, cycle: Cycle, timeZone: string): number | undefined {
  const local = new Date(ms + offsetAt(ms, timeZone));
  let target: number;
  if (cycle.unit === 'DAYS') {
    target = local.getTime() + cycle.value * 86_400_000;
  } else {
    const month = local.getUTCMonth() + cycle.value;
    const lastDay = new Date(Date.UTC(local.getUTCFullYear(), month + 1, 0)).getUTCDate();
    target = Date.UTC(
      local.getUTCFullYear(),
      month,
      Math.min(local.getUTCDate(), lastDay),
      local.getUTCHours(),
      local.getUTCMinutes(),
      local.getUTCSeconds(),
      local.getUTCMilliseconds(),
    );
  }
  if (!Number.isFinite(target)) return undefined;
  const offset = offsetAt(target, timeZone);
  const guess = target - offset;
  const steady =
    offsetAt(guess, timeZone) === offset &&
    offsetAt(guess - TRANSITION_MARGIN_MS, timeZone) === offset &&
    offsetAt(guess + TRANSITION_MARGIN_MS, timeZone) === offset;
  return steady ? guess : undefined;
}

/**
 * ISO-8601 in `timeZone` with a numeric offset (UTC prints as +00:00) and no bracket.
 * Milliseconds are printed (3 digits) only when non-zero; anything below a millisecond is truncated.
 * A hot path (every date of every event and answer): the zone's offset is looked up once per
 * quarter hour of UTC time and the text is built from Date#toISOString.
 */
export function formatInZone(instant: Temporal.Instant, timeZone: string): string {
  const ms = instant.epochMilliseconds;
  const offsetMs = offsetAt(ms, timeZone);
  const local = new Date(ms + offsetMs).toISOString();
  const time = ms % 1000 === 0 ? local.slice(0, 19) : local.slice(0, 23);
  return time + offsetText(offsetMs);
}

/** The calendar date (YYYY-MM-DD) of `instant` in `timeZone`. */
export function calendarDateInZone(instant: Temporal.Instant, timeZone: string): string {
  const ms = instant.epochMilliseconds;
  return new Date(ms + offsetAt(ms, timeZone)).toISOString().slice(0, 10);
}

const QUARTER_HOUR_MS = 15 * 60 * 1000;
const offsets = new Map<string, number | null>();

/**
 * The zone's UTC offset at `ms`, in milliseconds. Cached per quarter hour of UTC time when the
 * offset is the same at both ends of it (every transition of a modern zone falls on a quarter
 * hour); otherwise computed for the instant itself.
 */
function offsetAt(ms: number, timeZone: string): number {
  const bucket = Math.floor(ms / QUARTER_HOUR_MS);
  const key = `${timeZone}|${bucket}`;
  let cached = offsets.get(key);
  if (cached === undefined) {
    const start = zoneOffset(bucket * QUARTER_HOUR_MS, timeZone);
    const end = zoneOffset((bucket + 1) * QUARTER_HOUR_MS - 1, timeZone);
    cached = start === end ? start : null;
    if (offsets.size > 50_000) offsets.clear();
    offsets.set(key, cached);
  }
  return cached ?? zoneOffset(ms, timeZone);
}

function zoneOffset(ms: number, timeZone: string): number {
  return Temporal.Instant.fromEpochMilliseconds(ms).toZonedDateTimeISO(timeZone).offsetNanoseconds / 1e6;
}

function offsetText(offsetMs: number): string {
  const sign = offsetMs < 0 ? '-' : '+';
  const minutes = Math.abs(offsetMs) / 60_000;
  const hh = String(Math.floor(minutes / 60)).padStart(2, '0');
  const mm = String(Math.floor(minutes % 60)).padStart(2, '0');
  const seconds = Math.round((Math.abs(offsetMs) % 60_000) / 1000);
  return seconds === 0 ? `${sign}${hh}:${mm}` : `${sign}${hh}:${mm}:${String(seconds).padStart(2, '0')}`;
}

/** UTC ISO string with milliseconds and Z, like Date#toISOString. */
export function formatUtc(instant: Temporal.Instant): string {
  return instant.toString({ fractionalSecondDigits: 3 });
}

/** An optional API date of a batch entry: absent, a parsed instant, or 'invalid' (2024) for anything else. */
export function readApiDate(value: unknown, timeZone: string): Temporal.Instant | undefined | 'invalid' {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') return 'invalid';
  return parseApiDate(value, timeZone) ?? 'invalid';
}

/** True when `timeZone` is an IANA time zone name Temporal accepts (e.g. 'Asia/Kolkata', 'UTC'). */
export function isValidTimeZone(timeZone: string): boolean {
  // Temporal also accepts offset ids like '+05:30'; an org needs a named zone so DST is followed.
  if (/^[+-]/.test(timeZone)) return false;
  // The constructor, unlike toZonedDateTimeISO, rejects ISO date-time strings posing as zones.
  return tryBuild(() => new Temporal.ZonedDateTime(0n, timeZone)) !== undefined;
}
