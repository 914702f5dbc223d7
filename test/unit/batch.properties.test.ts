import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { EntryContext } from '../../src/domain/batch/batch-runner.js';
import { decideDelink } from '../../src/domain/delink/delink-policy.js';
import { decideLink, type LinkEntry } from '../../src/domain/link/link-policy.js';
import type { EntryOutcome } from '../../src/domain/outcomes.js';
import { decideUpdate, type UpdateEntry } from '../../src/domain/update/update-policy.js';
import type { Membership } from '../../src/model/membership.js';
import { at, membership, PROGRAMS, rulesWorld } from '../support/rules.js';

// SPEC §4's batch semantics on the pure rules: entries are decided one after another against a
// working state that only `save` changes, so a failed entry must change nothing (the batch
// runner over the database is checked the same way in test/api/batch.properties.test.ts).

type Step =
  { kind: 'link'; entry: LinkEntry } | { kind: 'update'; entry: UpdateEntry } | { kind: 'delink'; name: string };

function decide(step: Step, context: EntryContext): EntryOutcome {
  switch (step.kind) {
    case 'link':
      return decideLink(step.entry, context);
    case 'update':
      return decideUpdate(step.entry, context);
    case 'delink':
      return decideDelink({ echoName: step.name, name: step.name }, context);
  }
}

const maybe = <T>(values: fc.Arbitrary<T>) =>
  fc.oneof({ arbitrary: fc.constant(undefined), weight: 1 }, { arbitrary: values, weight: 1 });
const name = fc.constantFrom(...Object.keys(PROGRAMS), 'goldstar', 'Nowhere');
const date = fc.constantFrom(
  '2026-06-14',
  '2026-06-15',
  '2026-07-20',
  '2026-08-01T10:00:00Z',
  '2027-03-31',
  '31/12/2026',
);
const tier = fc.constantFrom('Silver', 'gold', 'Platinum', 'Bronze');
const withoutUndefined = <T extends object>(o: T) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

const step: fc.Arbitrary<Step> = fc.oneof(
  fc
    .record({
      name,
      membershipId: maybe(fc.constantFrom('M-1', 'M-2')),
      tierName: maybe(tier),
      tierExpiry: maybe(date),
      membershipStart: maybe(date),
    })
    .map((e) => ({ kind: 'link' as const, entry: withoutUndefined({ echoName: e.name, ...e }) })),
  fc
    .record({
      name,
      updateType: fc.option(
        fc.constantFrom('UPGRADE', 'downgrade', 'RENEW', 'UPDATE', 'MEMBERSHIP_RELINKING_CANCELLED', 'SIDEWAYS'),
        { nil: undefined, freq: 5 },
      ),
      tierName: maybe(tier),
      tierExpiry: maybe(date),
    })
    .map((e) => ({
      kind: 'update' as const,
      entry: withoutUndefined({ echoName: e.name, echoType: e.updateType ?? '', ...e }),
    })),
  name.map((n) => ({ kind: 'delink' as const, name: n })),
);

/** What the customer may hold before the batch: any of these, each or not. */
const stored = fc.subarray([
  membership(PROGRAMS.Goldstar, { tierNumber: 2 }),
  membership(PROGRAMS.Coalition, { state: 'DELINKED' }),
  membership(PROGRAMS.SPP_2, { pendingRelinkStart: at('2026-08-01T00:00:00Z') }),
  membership(PROGRAMS.SPP_SHORT, { state: 'EXPIRED', end: at('2026-06-01T00:00:00Z') }),
  membership(PROGRAMS.Dormant),
]);

function run(memberships: Membership[], steps: Step[]) {
  const world = rulesWorld(memberships);
  const outcomes = steps.map((s) => decide(s, world.context));
  return { outcomes, state: [...world.state.values()], warnings: world.warnings };
}

describe('batch semantics of the pure rules', () => {
  it('a failed entry saves nothing and warns of nothing', () => {
    fc.assert(
      fc.property(stored, fc.array(step, { maxLength: 6 }), step, (memberships, before, last) => {
        const world = rulesWorld(memberships);
        for (const s of before) decide(s, world.context);
        const saves = world.saves.length;
        const warnings = world.warnings.length;
        const state = new Map(world.state);
        if (decide(last, world.context) === 'SUCCESS') return;
        expect(world.saves.length).toBe(saves);
        expect(world.warnings.length).toBe(warnings);
        expect(world.state).toEqual(state);
      }),
      { numRuns: 500 },
    );
  });

  it('taking out the entries that failed changes no other entry’s outcome, and not the end state', () => {
    fc.assert(
      fc.property(stored, fc.array(step, { minLength: 1, maxLength: 8 }), (memberships, steps) => {
        const all = run(memberships, steps);
        const kept = steps.filter((_, i) => all.outcomes[i] === 'SUCCESS');
        const alone = run(memberships, kept);
        expect(alone.outcomes).toEqual(kept.map(() => 'SUCCESS'));
        expect(alone.state).toEqual(all.state);
        expect(alone.warnings).toEqual(all.warnings);
      }),
      { numRuns: 500 },
    );
  });
});
