import { Temporal } from 'temporal-polyfill';
import { describe, expect, it } from 'vitest';
import type { Membership } from '../../src/model/membership.js';
import { advanceMembership } from '../../src/domain/timeline.js';

const at = (iso: string) => Temporal.Instant.from(iso);
const base: Membership = {
  id: 1,
  orgId: 1,
  customerId: 7,
  programId: 3,
  programType: 'SUPPLEMENTARY',
  loyaltyProgramId: 1,
  cycle: { unit: 'DAYS', value: 10 },
  partnerMembershipId: 'M',
  state: 'SCHEDULED',
  tierNumber: null,
  tierExpiry: null,
  start: at('2026-01-10T00:00:00Z'),
  end: at('2026-01-20T00:00:00Z'),
  pendingRelinkStart: null,
};

describe('advanceMembership', () => {
  it('leaves a membership alone until something falls due', () => {
    const result = advanceMembership(base, at('2026-01-09T23:59:59Z'), 'UTC');
    expect(result.activities).toEqual([]);
    expect(result.membership).toBe(base);
  });

  it('starts a scheduled period at its start instant', () => {
    const { membership, activities } = advanceMembership(base, at('2026-01-10T00:00:00Z'), 'UTC');
    expect(membership.state).toBe('ACTIVE');
    expect(activities).toMatchObject([
      {
        customerId: 7,
        programId: 3,
        type: 'SUPPLEMENTARY_MEMBERSHIP_STARTED',
        at: at('2026-01-10T00:00:00Z'),
        source: 'JOB',
        // What its event says: why the period started, and the membership as the start left it.
        reason: 'SCHEDULED_START',
        membership: { state: 'ACTIVE', start: at('2026-01-10T00:00:00Z') },
      },
    ]);
  });

  it('catches up on every step that fell due, each dated when it fell due', () => {
    const pending = { ...base, pendingRelinkStart: at('2026-02-01T00:00:00Z') };
    const { membership, activities } = advanceMembership(pending, at('2026-03-01T00:00:00Z'), 'UTC');
    expect(activities.map((a) => [a.type, a.at.toString()])).toEqual([
      ['SUPPLEMENTARY_MEMBERSHIP_STARTED', '2026-01-10T00:00:00Z'],
      ['SUPPLEMENTARY_MEMBERSHIP_EXPIRED', '2026-01-20T00:00:00Z'],
      ['SUPPLEMENTARY_MEMBERSHIP_STARTED', '2026-02-01T00:00:00Z'],
      ['SUPPLEMENTARY_MEMBERSHIP_EXPIRED', '2026-02-11T00:00:00Z'],
    ]);
    // Each step's event sees the membership as that step left it.
    expect(activities.map((a) => [a.reason, a.membership?.state, a.membership?.end?.toString()])).toEqual([
      ['SCHEDULED_START', 'ACTIVE', '2026-01-20T00:00:00Z'],
      [undefined, 'EXPIRED', '2026-01-20T00:00:00Z'],
      ['RELINK', 'ACTIVE', '2026-02-11T00:00:00Z'],
      [undefined, 'EXPIRED', '2026-02-11T00:00:00Z'],
    ]);
    expect(membership).toMatchObject({
      state: 'EXPIRED',
      start: at('2026-02-01T00:00:00Z'),
      end: at('2026-02-11T00:00:00Z'),
      pendingRelinkStart: null,
      partnerMembershipId: 'M',
    });
  });

  it('keeps a pending relink through the gap after the old period', () => {
    const pending = { ...base, state: 'ACTIVE' as const, pendingRelinkStart: at('2026-02-01T00:00:00Z') };
    const { membership } = advanceMembership(pending, at('2026-01-25T00:00:00Z'), 'UTC');
    expect(membership).toMatchObject({ state: 'EXPIRED', pendingRelinkStart: at('2026-02-01T00:00:00Z') });
  });

  it('never touches EXTERNAL or delinked memberships', () => {
    const external = { ...base, programType: 'EXTERNAL' as const, state: 'LINKED' as const, end: null, cycle: null };
    expect(advanceMembership(external, at('2030-01-01T00:00:00Z'), 'UTC').activities).toEqual([]);
    const delinked = { ...base, state: 'DELINKED' as const };
    expect(advanceMembership(delinked, at('2030-01-01T00:00:00Z'), 'UTC').activities).toEqual([]);
  });
});
