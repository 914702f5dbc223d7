import { describe, expect, it } from 'vitest';
import { decideUpdate, type UpdateEntry } from '../../src/domain/update/update-policy.js';
import { at, CUSTOMER, membership, NOW, PROGRAMS, rulesWorld, type ProgramName } from '../support/rules.js';

// SPEC §5's checks, in their order, on decideUpdate alone: no database, no HTTP.
const entry = (name: ProgramName | string, updateType?: string, fields: Partial<UpdateEntry> = {}): UpdateEntry => ({
  echoName: name,
  name,
  echoType: updateType ?? '',
  ...(updateType === undefined ? {} : { updateType }),
  ...fields,
});

/** Linked to Goldstar at Gold (tier 2), expiring at the end of the year. */
const gold = () =>
  rulesWorld([membership(PROGRAMS.Goldstar, { tierNumber: 2, tierExpiry: at('2026-12-31T18:29:59Z') })]);

describe('decideUpdate: the order of the checks', () => {
  it('checks the program, then that a type is given, then the type, then the link', () => {
    const { context, saves } = rulesWorld();
    expect(decideUpdate(entry('Nowhere', 'SIDEWAYS'), context)).toBe('PROGRAM_NOT_FOUND');
    expect(decideUpdate(entry('Goldstar'), context)).toBe('MISSING_UPDATE_TYPE');
    expect(decideUpdate(entry('Goldstar', 'SIDEWAYS'), context)).toBe('INVALID_UPDATE_TYPE');
    expect(decideUpdate(entry('Goldstar', 'UPGRADE', { tierName: 'Platinum' }), context)).toBe('NOT_LINKED');
    expect(saves).toEqual([]);
  });

  it('looks after memberships of inactive or expired programs (no 2020/2021)', () => {
    const { context } = rulesWorld([membership(PROGRAMS.Dormant), membership(PROGRAMS.Bygone)]);
    expect(decideUpdate(entry('Dormant', 'RENEW', { tierExpiry: '2027-01-01' }), context)).toBe('TIER_NOT_FOUND');
    expect(decideUpdate(entry('Bygone', 'MEMBERSHIP_RELINKING_CANCELLED'), context)).toBe('NO_PENDING_RELINK');
  });

  it('matches the update type whatever its case', () => {
    expect(decideUpdate(entry('Goldstar', 'upgrade', { tierName: 'Platinum' }), gold().context)).toBe('SUCCESS');
  });

  it('refuses a tier update on a delinked membership or a program without tiers', () => {
    const { context } = rulesWorld([
      membership(PROGRAMS.Goldstar, { state: 'DELINKED' }),
      membership(PROGRAMS.Coalition),
      membership(PROGRAMS.SPP_2),
    ]);
    expect(decideUpdate(entry('Goldstar', 'UPDATE', { tierName: 'Gold' }), context)).toBe('NOT_LINKED');
    expect(decideUpdate(entry('Coalition', 'UPDATE', { tierName: 'Gold' }), context)).toBe('TIER_NOT_FOUND');
    expect(decideUpdate(entry('SPP_2', 'RENEW', { tierExpiry: '2027-01-01' }), context)).toBe('TIER_NOT_FOUND');
  });
});

describe('decideUpdate: UPGRADE and DOWNGRADE', () => {
  it('needs a tier name that exists, strictly higher or lower than the current tier', () => {
    const { context } = gold();
    expect(decideUpdate(entry('Goldstar', 'UPGRADE'), context)).toBe('MISSING_TIER_NAME');
    expect(decideUpdate(entry('Goldstar', 'UPGRADE', { tierName: 'Bronze' }), context)).toBe('TIER_NOT_FOUND');
    expect(decideUpdate(entry('Goldstar', 'UPGRADE', { tierName: 'Gold' }), context)).toBe('TIER_CHANGE_MISMATCH');
    expect(decideUpdate(entry('Goldstar', 'UPGRADE', { tierName: 'Silver' }), context)).toBe('TIER_CHANGE_MISMATCH');
    expect(decideUpdate(entry('Goldstar', 'DOWNGRADE', { tierName: 'Platinum' }), context)).toBe(
      'TIER_CHANGE_MISMATCH',
    );
  });

  it('checks an optional new expiry: a date, not before today', () => {
    const { context } = gold();
    expect(decideUpdate(entry('Goldstar', 'UPGRADE', { tierName: 'Platinum', tierExpiry: 'soon' }), context)).toBe(
      'INVALID_DATE',
    );
    expect(
      decideUpdate(entry('Goldstar', 'UPGRADE', { tierName: 'Platinum', tierExpiry: '2026-06-14' }), context),
    ).toBe('TIER_EXPIRY_IN_PAST');
  });

  it('moves the tier, keeps the expiry when none is given, and records both before and after', () => {
    const { context, saves } = gold();
    expect(decideUpdate(entry('Goldstar', 'DOWNGRADE', { tierName: 'silver' }), context)).toBe('SUCCESS');
    expect(saves).toEqual([
      {
        membership: membership(PROGRAMS.Goldstar, { tierNumber: 1, tierExpiry: at('2026-12-31T18:29:59Z') }),
        activities: [
          {
            customerId: CUSTOMER.id,
            programId: PROGRAMS.Goldstar.id,
            type: 'DOWNGRADE',
            at: NOW,
            source: 'API',
            details: {
              previousTierNumber: 2,
              tierNumber: 1,
              previousTierExpiryDate: '2026-12-31T18:29:59Z',
              tierExpiryDate: '2026-12-31T18:29:59Z',
            },
          },
        ],
      },
    ]);
  });

  it('upgrades a membership without a tier (the program gained tiers later) from below tier 1', () => {
    const { context } = rulesWorld([membership(PROGRAMS.Goldstar, { tierNumber: null })]);
    expect(decideUpdate(entry('Goldstar', 'UPGRADE', { tierName: 'Silver' }), context)).toBe('SUCCESS');
  });
});

describe('decideUpdate: RENEW and UPDATE', () => {
  it('RENEW needs a new expiry and, if a tier is named, the current one', () => {
    const { context, saves } = gold();
    expect(decideUpdate(entry('Goldstar', 'RENEW'), context)).toBe('MISSING_TIER_EXPIRY');
    expect(decideUpdate(entry('Goldstar', 'RENEW', { tierExpiry: '2027-06-30', tierName: 'Silver' }), context)).toBe(
      'TIER_CHANGE_MISMATCH',
    );
    expect(decideUpdate(entry('Goldstar', 'RENEW', { tierExpiry: '2027-06-30', tierName: 'GOLD' }), context)).toBe(
      'SUCCESS',
    );
    expect(saves.map((s) => [s.membership.tierNumber, s.membership.tierExpiry])).toEqual([
      [2, at('2027-06-30T00:00:00+05:30')],
    ]);
  });

  it('UPDATE needs a tier or an expiry, and sets either with no direction check', () => {
    const { context, saves } = gold();
    expect(decideUpdate(entry('Goldstar', 'UPDATE'), context)).toBe('MISSING_UPDATE_DETAILS');
    expect(decideUpdate(entry('Goldstar', 'UPDATE', { tierName: 'Silver' }), context)).toBe('SUCCESS');
    expect(decideUpdate(entry('Goldstar', 'UPDATE', { tierExpiry: '2027-01-01' }), context)).toBe('SUCCESS');
    expect(saves.map((s) => [s.membership.tierNumber, s.membership.tierExpiry])).toEqual([
      [1, at('2026-12-31T18:29:59Z')],
      [1, at('2027-01-01T00:00:00+05:30')],
    ]);
  });
});

describe('decideUpdate: MEMBERSHIP_RELINKING_CANCELLED', () => {
  const relinkStart = at('2026-08-01T00:00:00+05:30');

  it('cancels the pending relink, even of an expired membership waiting for it', () => {
    const expired = membership(PROGRAMS.SPP_2, {
      state: 'EXPIRED',
      end: at('2026-06-01T00:00:00Z'),
      pendingRelinkStart: relinkStart,
    });
    const { context, saves } = rulesWorld([expired]);
    expect(decideUpdate(entry('SPP_2', 'MEMBERSHIP_RELINKING_CANCELLED'), context)).toBe('SUCCESS');
    expect(saves).toEqual([
      {
        membership: { ...expired, pendingRelinkStart: null },
        activities: [
          {
            customerId: CUSTOMER.id,
            programId: PROGRAMS.SPP_2.id,
            type: 'RELINK_CANCELLED',
            at: NOW,
            source: 'API',
            details: { relinkStart: relinkStart.toString() },
          },
        ],
      },
    ]);
    expect(decideUpdate(entry('SPP_2', 'MEMBERSHIP_RELINKING_CANCELLED'), context)).toBe('NOT_LINKED');
  });

  it('answers 2022 when nothing is pending (always so on EXTERNAL programs), 2004 when not linked', () => {
    const { context } = rulesWorld([membership(PROGRAMS.SPP_2), membership(PROGRAMS.Goldstar)]);
    expect(decideUpdate(entry('SPP_2', 'MEMBERSHIP_RELINKING_CANCELLED'), context)).toBe('NO_PENDING_RELINK');
    expect(decideUpdate(entry('Goldstar', 'MEMBERSHIP_RELINKING_CANCELLED'), context)).toBe('NO_PENDING_RELINK');
    expect(decideUpdate(entry('SPP_1', 'MEMBERSHIP_RELINKING_CANCELLED'), context)).toBe('NOT_LINKED');
  });
});
