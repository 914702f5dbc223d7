import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Temporal } from 'temporal-polyfill';
import { fromDate, toDate } from '../../src/db/instants.js';
import {
  calendarDateInZone,
  addCycle,
  formatInZone,
  formatUtc,
  isBeforeToday,
  isValidTimeZone,
  parseApiDate,
} from '../../src/domain/dates.js';

const KOLKATA = 'Asia/Kolkata';
const NEW_YORK = 'America/New_York';
const LONDON = 'Europe/London';
const LOS_ANGELES = 'America/Los_Angeles';
const UTC = 'UTC';
const ZONES = [
  KOLKATA,
  NEW_YORK,
  LONDON,
  LOS_ANGELES,
  UTC,
  'Asia/Kathmandu', // +05:45
  'America/St_Johns', // -03:30 / -02:30
  'Australia/Lord_Howe', // 30-minute DST shift
  'Pacific/Kiritimati', // +14:00
];

const at = (iso: string): Temporal.Instant => Temporal.Instant.from(iso);
/** The parsed instant as a UTC string, so failures read well. */
const parsed = (text: string, timeZone: string): string | undefined => parseApiDate(text, timeZone)?.toString();
const hoursBetween = (a: Temporal.Instant, b: Temporal.Instant): number => a.until(b).total('hours');

// Instants with millisecond precision (what the API and the database carry), 1970–2100:
// before ~1970 some zones used sub-minute LMT offsets that an ISO offset cannot express.
const instantArb = fc
  .integer({ min: 0, max: Date.UTC(2100, 0, 1) })
  .map((ms) => Temporal.Instant.fromEpochMilliseconds(ms));
const zoneArb = fc.constantFrom(...ZONES);

describe('parseApiDate', () => {
  describe('date-time with offset', () => {
    it.each([
      ['2026-12-31T23:59:59+05:30', '2026-12-31T18:29:59Z'],
      ['2027-01-01T00:00:00+05:30', '2026-12-31T18:30:00Z'],
      ['2025-12-23T17:55:00 +05:30', '2025-12-23T12:25:00Z'],
      ['2025-12-23T17:55:00   +05:30', '2025-12-23T12:25:00Z'],
      ['2026-12-31T23:59:59Z', '2026-12-31T23:59:59Z'],
      ['2026-12-31T23:59:59 Z', '2026-12-31T23:59:59Z'],
      ['2026-12-31 23:59:59+05:30', '2026-12-31T18:29:59Z'],
      ['2026-12-31 23:59:59 +05:30', '2026-12-31T18:29:59Z'],
      ['2026-12-31t23:59:59z', '2026-12-31T23:59:59Z'],
      ['2026-12-31T23:59:59+0530', '2026-12-31T18:29:59Z'],
      ['2026-12-31T23:59:59+05', '2026-12-31T18:59:59Z'],
      ['2026-12-31T23:59:59-03:00', '2027-01-01T02:59:59Z'],
      ['2026-12-31T23:59:59-00:00', '2026-12-31T23:59:59Z'],
      ['2026-12-31T23:59:59+00:00', '2026-12-31T23:59:59Z'],
      ['2026-12-31T23:59:59+14:00', '2026-12-31T09:59:59Z'],
      ['2026-12-31T23:59:59.5+05:30', '2026-12-31T18:29:59.5Z'],
      ['2026-12-31T23:59:59.250Z', '2026-12-31T23:59:59.25Z'],
      ['2026-12-31T23:59:59.123456789Z', '2026-12-31T23:59:59.123456789Z'],
      ['2026-12-31T23:59+05:30', '2026-12-31T18:29:00Z'],
      ['  2026-12-31T23:59:59+05:30\n', '2026-12-31T18:29:59Z'],
    ])('%j → %s', (text, expected) => {
      expect(parsed(text, KOLKATA)).toBe(expected);
    });

    it('ignores the org zone when the text carries an offset', () => {
      for (const zone of ZONES) {
        expect(parsed('2026-12-31T23:59:59+05:30', zone)).toBe('2026-12-31T18:29:59Z');
      }
    });

    it('keeps nanosecond precision', () => {
      expect(parseApiDate('2026-01-01T00:00:00.000000001Z', UTC)?.epochNanoseconds).toBe(
        at('2026-01-01T00:00:00Z').epochNanoseconds + 1n,
      );
    });
  });

  describe('date-time without offset is read in the org zone', () => {
    it.each([
      ['2026-12-31T23:59:59', KOLKATA, '2026-12-31T18:29:59Z'],
      ['2026-12-31T23:59:59', NEW_YORK, '2027-01-01T04:59:59Z'],
      ['2026-12-31T23:59:59', UTC, '2026-12-31T23:59:59Z'],
      ['2026-12-31 23:59:59', KOLKATA, '2026-12-31T18:29:59Z'],
      ['2026-12-31T23:59', KOLKATA, '2026-12-31T18:29:00Z'],
      ['2026-12-31T23:59', NEW_YORK, '2027-01-01T04:59:00Z'],
      ['2026-07-01T12:00:00', NEW_YORK, '2026-07-01T16:00:00Z'],
      ['2026-07-01T12:00:00', LONDON, '2026-07-01T11:00:00Z'],
      ['2026-12-31T23:59:59.5', KOLKATA, '2026-12-31T18:29:59.5Z'],
    ])('%s in %s → %s', (text, zone, expected) => {
      expect(parsed(text, zone)).toBe(expected);
    });
  });

  describe('date only is the start of the day in the org zone', () => {
    it.each([
      ['2026-12-31', KOLKATA, '2026-12-30T18:30:00Z'],
      ['2026-12-31', NEW_YORK, '2026-12-31T05:00:00Z'],
      ['2026-07-01', NEW_YORK, '2026-07-01T04:00:00Z'],
      ['2026-12-31', UTC, '2026-12-31T00:00:00Z'],
      ['2028-02-29', UTC, '2028-02-29T00:00:00Z'],
    ])('%s in %s → %s', (text, zone, expected) => {
      expect(parsed(text, zone)).toBe(expected);
    });

    it('uses the real start of a day that begins in a DST gap (Sao Paulo, 2018-11-04 00:00 did not exist)', () => {
      const start = parseApiDate('2018-11-04', 'America/Sao_Paulo');
      expect(start && formatInZone(start, 'America/Sao_Paulo')).toBe('2018-11-04T01:00:00-02:00');
    });
  });

  describe('DST', () => {
    it('a date-only start on the US spring-forward day is local midnight and that day lasts 23h', () => {
      const day = parseApiDate('2026-03-08', NEW_YORK);
      const next = parseApiDate('2026-03-09', NEW_YORK);
      expect(day?.toString()).toBe('2026-03-08T05:00:00Z');
      expect(day && next && hoursBetween(day, next)).toBe(23);
    });

    it('a date-only start on the UK spring-forward day is local midnight and that day lasts 23h', () => {
      const day = parseApiDate('2026-03-29', LONDON);
      const next = parseApiDate('2026-03-30', LONDON);
      expect(day?.toString()).toBe('2026-03-29T00:00:00Z');
      expect(day && next && hoursBetween(day, next)).toBe(23);
    });

    it.each([
      // Inside the spring-forward gap 'compatible' moves forward by the gap length.
      ['2026-03-08T02:30', NEW_YORK, '2026-03-08T07:30:00Z', '2026-03-08T03:30:00-04:00'],
      ['2026-03-29T01:30:00', LONDON, '2026-03-29T01:30:00Z', '2026-03-29T02:30:00+01:00'],
      // Inside the fall-back fold 'compatible' takes the earlier (summer time) instant.
      ['2026-11-01T01:30', NEW_YORK, '2026-11-01T05:30:00Z', '2026-11-01T01:30:00-04:00'],
      ['2026-10-25T01:30:00', LONDON, '2026-10-25T00:30:00Z', '2026-10-25T01:30:00+01:00'],
    ])('%s in %s → %s (%s)', (text, zone, utc, local) => {
      const instant = parseApiDate(text, zone);
      expect(instant?.toString()).toBe(utc);
      expect(instant && formatInZone(instant, zone)).toBe(local);
    });
  });

  describe('rejections', () => {
    it.each([
      '',
      '   ',
      'garbage',
      'null',
      'tomorrow',
      '1735689600',
      '1735689600000',
      '31/12/2026',
      '12/31/2026',
      '2026/12/31',
      '20261231',
      '2026-1-5',
      '26-12-31',
      '+002026-12-31',
      '12026-12-31',
      '2026-13-01',
      '2026-00-10',
      '2026-12-00',
      '2026-12-32',
      '2026-02-30',
      '2026-02-29',
      '2100-02-29',
      '2026-04-31T10:00:00Z',
      '2026-12-31T',
      '2026-12-31T23',
      '2026-12-31  23:59:59',
      '2026-12-31 23',
      '2026-12-31T2:59',
      '2026-12-31T25:00',
      '2026-12-31T24:00:00',
      '2026-12-31T23:60',
      '2026-12-31T23:59:60Z',
      '2026-12-31T23:59:59.Z',
      '2026-12-31T23:59:59.1234567890Z',
      '2026-12-31T23:59:59,5Z',
      '2026-12-31T23:59:59+5:30',
      '2026-12-31T23:59:59+05:3',
      '2026-12-31T23:59:59+24:00',
      '2026-12-31T23:59:59+05:60',
      '2026-12-31T23:59:59+05:30:00',
      '2026-12-31T23:59:59\t+05:30',
      '2026-12-31T23:59:59+05:30 ms',
      '2026-12-31Z',
      '2026-12-31+05:30',
      '2026-12-31T23:59:59+05:30[Asia/Kolkata]',
      '2026-12-31T23:59:59[Asia/Kolkata]',
      '2026-12-31[Asia/Kolkata]',
      '2026-12-31T23:59:59Z[UTC]',
    ])('%j → undefined', (text) => {
      expect(parseApiDate(text, KOLKATA)).toBeUndefined();
    });

    it('never throws on arbitrary input for a valid zone', () => {
      const dateChars = fc.constantFrom(...'0123456789-:.+TZtz []/'.split(''));
      fc.assert(
        fc.property(fc.oneof(fc.string(), fc.string({ unit: dateChars, maxLength: 40 })), zoneArb, (text, zone) => {
          const result = parseApiDate(text, zone);
          expect(result === undefined || result instanceof Temporal.Instant).toBe(true);
        }),
      );
    });

    it('throws for an invalid org zone when the zone is needed', () => {
      expect(() => parseApiDate('2026-12-31', 'Mars/Olympus')).toThrow(RangeError);
      expect(() => parseApiDate('2026-12-31T10:00', 'Mars/Olympus')).toThrow(RangeError);
    });
  });

  it('round-trips formatInZone output whatever zone the reader uses', () => {
    fc.assert(
      fc.property(instantArb, zoneArb, zoneArb, (instant, writeZone, readZone) => {
        const parsedBack = parseApiDate(formatInZone(instant, writeZone), readZone);
        expect(parsedBack?.equals(instant)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

describe('isBeforeToday', () => {
  const now = at('2026-01-15T18:00:00Z'); // 10:00 in Los Angeles, 23:30 in Kolkata

  it.each([
    ['yesterday 23:59 local', '2026-01-14T23:59:00-08:00', true],
    ['yesterday 23:59:59.999 local', '2026-01-14T23:59:59.999-08:00', true],
    ['long ago', '2020-01-01T00:00:00Z', true],
    ['today 00:00 local', '2026-01-15T00:00:00-08:00', false],
    ['earlier today', '2026-01-15T09:59:00-08:00', false],
    ['now', '2026-01-15T10:00:00-08:00', false],
    ['later today', '2026-01-15T23:59:59-08:00', false],
    ['tomorrow', '2026-01-16T00:00:00-08:00', false],
  ])('%s in Los Angeles → %s', (_label, instant, expected) => {
    expect(isBeforeToday(at(instant), now, LOS_ANGELES)).toBe(expected);
  });

  it('works around midnight in Kolkata', () => {
    const midnight = at('2026-01-15T00:00:00+05:30');
    expect(isBeforeToday(at('2026-01-14T23:59:59+05:30'), midnight, KOLKATA)).toBe(true);
    expect(isBeforeToday(midnight, midnight, KOLKATA)).toBe(false);
    // The same instants are both on 2026-01-14 in UTC.
    expect(isBeforeToday(at('2026-01-14T23:59:59+05:30'), midnight, UTC)).toBe(false);
  });

  it('uses the org zone, not UTC: "today" in UTC can be "yesterday" in Los Angeles', () => {
    const noonUtc = at('2026-01-15T12:00:00Z'); // 04:00 on Jan 15 in Los Angeles
    const earlyUtc = at('2026-01-15T03:00:00Z'); // 19:00 on Jan 14 in Los Angeles
    expect(isBeforeToday(earlyUtc, noonUtc, UTC)).toBe(false);
    expect(isBeforeToday(earlyUtc, noonUtc, LOS_ANGELES)).toBe(true);
  });

  it('agrees with comparing local calendar dates', () => {
    fc.assert(
      fc.property(instantArb, instantArb, zoneArb, (instant, current, zone) => {
        const day = formatInZone(instant, zone).slice(0, 10);
        const today = formatInZone(current, zone).slice(0, 10);
        expect(isBeforeToday(instant, current, zone)).toBe(day < today);
      }),
    );
  });
});

describe('addCycle', () => {
  const add = (start: string, unit: 'DAYS' | 'MONTHS', value: number, zone: string): string =>
    formatInZone(addCycle(at(start), { unit, value }, zone), zone);

  describe('DAYS', () => {
    it('adds calendar days', () => {
      expect(add('2026-12-31T23:59:59+05:30', 'DAYS', 1, KOLKATA)).toBe('2027-01-01T23:59:59+05:30');
      expect(add('2026-02-28T10:00:00Z', 'DAYS', 1, UTC)).toBe('2026-03-01T10:00:00+00:00');
      expect(add('2028-02-28T10:00:00Z', 'DAYS', 1, UTC)).toBe('2028-02-29T10:00:00+00:00');
      expect(add('2026-01-01T00:00:00Z', 'DAYS', 365, UTC)).toBe('2027-01-01T00:00:00+00:00');
    });

    it('keeps the local time across the US spring-forward change (a 23h day)', () => {
      const start = at('2026-03-07T09:00:00-05:00');
      const end = addCycle(start, { unit: 'DAYS', value: 1 }, NEW_YORK);
      expect(formatInZone(end, NEW_YORK)).toBe('2026-03-08T09:00:00-04:00');
      expect(hoursBetween(start, end)).toBe(23);
    });

    it('keeps the local time across the UK fall-back change (a 25h day)', () => {
      const start = at('2026-10-24T09:00:00+01:00');
      const end = addCycle(start, { unit: 'DAYS', value: 1 }, LONDON);
      expect(formatInZone(end, LONDON)).toBe('2026-10-25T09:00:00+00:00');
      expect(hoursBetween(start, end)).toBe(25);
    });

    it('30 days across a DST change is not 30 × 24h', () => {
      const start = at('2026-03-01T00:00:00-05:00');
      const end = addCycle(start, { unit: 'DAYS', value: 30 }, NEW_YORK);
      expect(formatInZone(end, NEW_YORK)).toBe('2026-03-31T00:00:00-04:00');
      expect(hoursBetween(start, end)).toBe(30 * 24 - 1);
    });

    it('keeps the local time of day for any number of days (times outside DST transitions)', () => {
      fc.assert(
        fc.property(instantArb, zoneArb, fc.integer({ min: 1, max: 2000 }), (instant, zone, days) => {
          // Noon local is never inside a DST gap or fold in these zones.
          const start = instant.toZonedDateTimeISO(zone).with({ hour: 12, minute: 0 });
          const end = addCycle(start.toInstant(), { unit: 'DAYS', value: days }, zone).toZonedDateTimeISO(zone);
          expect(end.toPlainTime().equals(start.toPlainTime())).toBe(true);
          expect(start.toPlainDate().until(end.toPlainDate()).days).toBe(days);
        }),
      );
    });
  });

  describe('MONTHS', () => {
    it.each([
      ['2026-01-31T10:00:00Z', 1, '2026-02-28T10:00:00+00:00'],
      ['2028-01-31T10:00:00Z', 1, '2028-02-29T10:00:00+00:00'],
      ['2026-03-31T10:00:00Z', 1, '2026-04-30T10:00:00+00:00'],
      ['2026-01-31T10:00:00Z', 13, '2027-02-28T10:00:00+00:00'],
      ['2026-08-31T10:00:00Z', 6, '2027-02-28T10:00:00+00:00'],
      ['2027-08-31T10:00:00Z', 6, '2028-02-29T10:00:00+00:00'],
      ['2028-02-29T10:00:00Z', 12, '2029-02-28T10:00:00+00:00'],
      ['2028-02-29T10:00:00Z', 1, '2028-03-29T10:00:00+00:00'],
      ['2026-01-15T10:00:00Z', 12, '2027-01-15T10:00:00+00:00'],
    ])('%s + %i months → %s', (start, months, expected) => {
      expect(add(start, 'MONTHS', months, UTC)).toBe(expected);
    });

    it('is computed in the org zone: Jan 31 in Kolkata is still Jan 30 in UTC', () => {
      const start = at('2026-01-31T02:00:00+05:30'); // 2026-01-30T20:30Z
      const inKolkata = addCycle(start, { unit: 'MONTHS', value: 1 }, KOLKATA);
      const inUtc = addCycle(start, { unit: 'MONTHS', value: 1 }, UTC);
      expect(formatInZone(inKolkata, KOLKATA)).toBe('2026-02-28T02:00:00+05:30');
      expect(inKolkata.toString()).toBe('2026-02-27T20:30:00Z');
      expect(inUtc.toString()).toBe('2026-02-28T20:30:00Z');
    });

    it('keeps the local time across DST', () => {
      expect(add('2026-02-15T09:00:00-05:00', 'MONTHS', 1, NEW_YORK)).toBe('2026-03-15T09:00:00-04:00');
      expect(add('2026-10-10T09:00:00+01:00', 'MONTHS', 1, LONDON)).toBe('2026-11-10T09:00:00+00:00');
    });
  });

  it('is ZonedDateTime#add in every zone, near transitions and month ends too', () => {
    // Starts near DST changes and month ends are where a shortcut would go wrong: bias towards them.
    const nearTransition = fc
      .tuple(zoneArb, fc.integer({ min: 1971, max: 2099 }), fc.integer({ min: -4 * 3600_000, max: 4 * 3600_000 }))
      .map(([zone, year, shift]) => {
        const next = Temporal.Instant.fromEpochMilliseconds(Date.UTC(year, 0, 1))
          .toZonedDateTimeISO(zone)
          .getTimeZoneTransition('next');
        return next ? next.toInstant().add({ milliseconds: shift }) : at(`${year}-03-31T23:30:00Z`);
      });
    // ... and starts a whole number of days or months before one, so the new wall time falls in its gap or overlap.
    const landingNearTransition = fc
      .tuple(nearTransition, fc.integer({ min: 1, max: 3 }), fc.constantFrom('DAYS' as const, 'MONTHS' as const))
      .map(([end, value, unit]) => ({ end, value, unit }));
    const startArb = fc.oneof(instantArb, nearTransition);
    const cycleArb = fc.record({
      unit: fc.constantFrom('DAYS' as const, 'MONTHS' as const),
      value: fc.oneof(fc.integer({ min: 1, max: 14 }), fc.integer({ min: 1, max: 400 })),
    });
    fc.assert(
      fc.property(startArb, cycleArb, zoneArb, (start, cycle, zone) => {
        const duration = cycle.unit === 'DAYS' ? { days: cycle.value } : { months: cycle.value };
        const expected = start.toZonedDateTimeISO(zone).add(duration).toInstant();
        expect(addCycle(start, cycle, zone).toString()).toBe(expected.toString());
      }),
      { numRuns: 3000 },
    );
    fc.assert(
      fc.property(landingNearTransition, zoneArb, ({ end, value, unit }, zone) => {
        const duration = unit === 'DAYS' ? { days: value } : { months: value };
        const start = end.toZonedDateTimeISO(zone).subtract(duration).toInstant();
        const expected = start.toZonedDateTimeISO(zone).add(duration).toInstant();
        expect(addCycle(start, { unit, value }, zone).toString()).toBe(expected.toString());
      }),
      { numRuns: 3000 },
    );
    // New York's 2026 spring-forward gap: 02:30 does not exist, 'compatible' moves it to 03:30 EDT.
    expect(add('2026-03-07T02:30:00-05:00', 'DAYS', 1, NEW_YORK)).toBe('2026-03-08T03:30:00-04:00');
  });

  it.each([0, -1, 1.5, Number.NaN])('rejects a non-positive-integer value %s', (value) => {
    expect(() => addCycle(at('2026-01-01T00:00:00Z'), { unit: 'DAYS', value }, UTC)).toThrow(RangeError);
    expect(() => addCycle(at('2026-01-01T00:00:00Z'), { unit: 'MONTHS', value }, UTC)).toThrow(RangeError);
  });
});

describe('formatInZone', () => {
  const instant = at('2026-12-31T18:29:59Z');

  it.each([
    [KOLKATA, '2026-12-31T23:59:59+05:30'],
    [NEW_YORK, '2026-12-31T13:29:59-05:00'],
    [LONDON, '2026-12-31T18:29:59+00:00'],
    [UTC, '2026-12-31T18:29:59+00:00'],
    ['Asia/Kathmandu', '2027-01-01T00:14:59+05:45'],
    ['America/St_Johns', '2026-12-31T14:59:59-03:30'],
    ['Pacific/Kiritimati', '2027-01-01T08:29:59+14:00'],
  ])('in %s → %s', (zone, expected) => {
    expect(formatInZone(instant, zone)).toBe(expected);
  });

  it('prints summer offsets', () => {
    const summer = at('2026-07-01T12:00:00Z');
    expect(formatInZone(summer, NEW_YORK)).toBe('2026-07-01T08:00:00-04:00');
    expect(formatInZone(summer, LONDON)).toBe('2026-07-01T13:00:00+01:00');
  });

  it('always prints seconds', () => {
    expect(formatInZone(at('2026-01-01T04:30:00Z'), KOLKATA)).toBe('2026-01-01T10:00:00+05:30');
  });

  it('prints milliseconds as exactly 3 digits only when non-zero, truncating anything finer', () => {
    expect(formatInZone(at('2026-01-01T04:30:00.250Z'), KOLKATA)).toBe('2026-01-01T10:00:00.250+05:30');
    expect(formatInZone(at('2026-01-01T04:30:00.001Z'), UTC)).toBe('2026-01-01T04:30:00.001+00:00');
    expect(formatInZone(at('2026-01-01T04:30:00.0019Z'), UTC)).toBe('2026-01-01T04:30:00.001+00:00');
    expect(formatInZone(at('2026-01-01T04:30:00.000999Z'), UTC)).toBe('2026-01-01T04:30:00+00:00');
  });

  it('never prints a bracket zone or Z', () => {
    fc.assert(
      fc.property(instantArb, zoneArb, (x, zone) => {
        expect(formatInZone(x, zone)).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?[+-]\d{2}:\d{2}$/);
      }),
    );
  });
});

describe('formatUtc', () => {
  it('prints milliseconds and Z', () => {
    expect(formatUtc(at('2026-01-01T10:00:00+05:30'))).toBe('2026-01-01T04:30:00.000Z');
    expect(formatUtc(at('2026-01-01T04:30:00.25Z'))).toBe('2026-01-01T04:30:00.250Z');
    expect(formatUtc(at('2026-01-01T04:30:00.123999Z'))).toBe('2026-01-01T04:30:00.123Z');
  });

  it('matches Date#toISOString', () => {
    fc.assert(
      fc.property(instantArb, (x) => {
        expect(formatUtc(x)).toBe(new Date(x.epochMilliseconds).toISOString());
      }),
    );
  });
});

describe('toDate / fromDate', () => {
  it('converts both ways', () => {
    const instant = at('2026-01-01T04:30:00.250Z');
    expect(toDate(instant).toISOString()).toBe('2026-01-01T04:30:00.250Z');
    expect(fromDate(new Date('2026-01-01T04:30:00.250Z')).equals(instant)).toBe(true);
  });

  it('round-trips millisecond instants', () => {
    fc.assert(
      fc.property(instantArb, (x) => {
        expect(fromDate(toDate(x)).equals(x)).toBe(true);
      }),
    );
  });

  it('drops sub-millisecond precision', () => {
    expect(toDate(at('2026-01-01T04:30:00.250999Z')).toISOString()).toBe('2026-01-01T04:30:00.250Z');
  });

  it('rejects an invalid Date', () => {
    expect(() => fromDate(new Date(Number.NaN))).toThrow(RangeError);
  });
});

describe('isValidTimeZone', () => {
  it.each(['Asia/Kolkata', 'UTC', 'America/New_York', 'Europe/London', 'Etc/GMT+5', 'Asia/Kathmandu'])(
    'accepts %s',
    (zone) => {
      expect(isValidTimeZone(zone)).toBe(true);
    },
  );

  it.each(['', ' ', 'Mars/Olympus', 'Asia/Kolkata ', 'IST', '+05:30', '-08:00', '2026-01-01T00:00Z', '[Asia/Kolkata]'])(
    'rejects %j',
    (zone) => {
      expect(isValidTimeZone(zone)).toBe(false);
    },
  );
});

describe('formatInZone and calendarDateInZone', () => {
  const zones = ['UTC', 'Asia/Kolkata', 'America/New_York', 'Europe/London', 'Australia/Lord_Howe', 'Asia/Kathmandu'];
  it('write what Temporal writes, for any instant from 1970 to 2200, DST transitions included', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 7_258_118_400_000 }),
        fc.constantFrom(...zones),
        fc.boolean(),
        (ms, zone, whole) => {
          const instant = Temporal.Instant.fromEpochMilliseconds(whole ? ms - (ms % 1000) : ms);
          const zoned = instant.toZonedDateTimeISO(zone);
          const expected = zoned.toString({
            timeZoneName: 'never',
            fractionalSecondDigits: zoned.millisecond === 0 ? 0 : 3,
          });
          expect(formatInZone(instant, zone)).toBe(expected);
          expect(calendarDateInZone(instant, zone)).toBe(zoned.toPlainDate().toString());
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('is right on both sides of a transition', () => {
    // New York springs forward at 2026-03-08T07:00Z and falls back at 2026-11-01T06:00Z.
    const at = (iso: string) => Temporal.Instant.from(iso);
    expect(formatInZone(at('2026-03-08T06:59:59.999Z'), 'America/New_York')).toBe('2026-03-08T01:59:59.999-05:00');
    expect(formatInZone(at('2026-03-08T07:00:00Z'), 'America/New_York')).toBe('2026-03-08T03:00:00-04:00');
    expect(formatInZone(at('2026-11-01T05:59:59Z'), 'America/New_York')).toBe('2026-11-01T01:59:59-04:00');
    expect(formatInZone(at('2026-11-01T06:00:00Z'), 'America/New_York')).toBe('2026-11-01T01:00:00-05:00');
  });
});
