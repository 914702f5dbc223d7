import fc from 'fast-check';
import { Temporal } from 'temporal-polyfill';
import { describe, expect, it } from 'vitest';
import { addCycle } from '../../src/domain/dates.js';
import { advanceMembership } from '../../src/domain/timeline.js';
import type { Cycle } from '../../src/model/program.js';
import { membership, PROGRAMS } from '../support/rules.js';

// advanceMembership's promise: the outcome never depends on how late, or how often, the
// scheduler (or a request touching the row) brings a membership up to date.
const ZONE = 'America/New_York'; // with DST changes inside the generated range
const origin = Temporal.Instant.from('2026-01-01T00:00:00Z');
const instant = fc.integer({ min: 0, max: 400 * 24 }).map((hours) => origin.add({ hours }));
const cycle: fc.Arbitrary<Cycle> = fc.oneof(
  fc.integer({ min: 1, max: 40 }).map((value) => ({ unit: 'DAYS' as const, value })),
  fc.integer({ min: 1, max: 3 }).map((value) => ({ unit: 'MONTHS' as const, value })),
);
const supplementary = fc
  .record({
    cycle,
    state: fc.constantFrom('SCHEDULED', 'ACTIVE', 'EXPIRED', 'DELINKED' as const),
    start: instant,
    relinkAfterEnd: fc.option(fc.integer({ min: 0, max: 90 * 24 }), { nil: null }),
  })
  .map(({ cycle, state, start, relinkAfterEnd }) => {
    const end = addCycle(start, cycle, ZONE);
    return membership(PROGRAMS.SPP_2, {
      cycle,
      state,
      start,
      end,
      pendingRelinkStart: relinkAfterEnd === null ? null : end.add({ hours: relinkAfterEnd }),
    });
  });

describe('advanceMembership, whenever it runs', () => {
  it('gives the same membership and history in two steps as in one', () => {
    fc.assert(
      fc.property(supplementary, instant, instant, (m, a, b) => {
        const [early, late] = Temporal.Instant.compare(a, b) <= 0 ? [a, b] : [b, a];
        const first = advanceMembership(m, early, ZONE);
        const second = advanceMembership(first.membership, late, ZONE);
        const once = advanceMembership(m, late, ZONE);
        expect(second.membership).toEqual(once.membership);
        expect([...first.activities, ...second.activities]).toEqual(once.activities);
      }),
      { numRuns: 300 },
    );
  });

  it('has nothing more to do when run again at the same instant, and dates nothing after it', () => {
    fc.assert(
      fc.property(supplementary, instant, (m, now) => {
        const { membership: advanced, activities } = advanceMembership(m, now, ZONE);
        expect(advanceMembership(advanced, now, ZONE).activities).toEqual([]);
        for (const activity of activities) expect(Temporal.Instant.compare(activity.at, now)).toBeLessThanOrEqual(0);
      }),
      { numRuns: 300 },
    );
  });
});
