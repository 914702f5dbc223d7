import { describe, expect, it } from 'vitest';
import { decideLink, type LinkEntry } from '../../src/domain/link/link-policy.js';
import { at, CUSTOMER, membership, NOW, ORG, PROGRAMS, rulesWorld, type ProgramName } from '../support/rules.js';

// SPEC §4's checks, in their order, on decideLink alone: no database, no HTTP.
const entry = (name: ProgramName | string, fields: Partial<LinkEntry> = {}): LinkEntry => ({
  echoName: name,
  name,
  membershipId: 'M-1',
  ...fields,
});

describe('decideLink: the program (step 1)', () => {
  it('refuses a program the org does not have, an inactive one and an expired one', () => {
    const { context, saves } = rulesWorld();
    expect(decideLink(entry('Nowhere'), context)).toBe('PROGRAM_NOT_FOUND');
    expect(decideLink(entry('Dormant'), context)).toBe('PROGRAM_INACTIVE');
    expect(decideLink(entry('Bygone'), context)).toBe('PROGRAM_EXPIRED');
    expect(saves).toEqual([]);
  });

  it('finds the program whatever the case of its name', () => {
    expect(decideLink(entry('gOLDSTAR'), rulesWorld().context)).toBe('SUCCESS');
  });

  it('checks the program before anything else', () => {
    const { context } = rulesWorld([], { customer: { ...CUSTOMER, loyaltyProgramIds: [] } });
    expect(decideLink(entry('Dormant', { membershipStart: 'not a date' }), context)).toBe('PROGRAM_INACTIVE');
  });
});

describe('decideLink: enrolment, dates, tiers (steps 2 to 4)', () => {
  it('refuses a customer not enrolled in the loyalty program, before reading dates', () => {
    const { context } = rulesWorld();
    expect(decideLink(entry('SPP_B', { membershipStart: 'soon' }), context)).toBe('NOT_ENROLLED');
  });

  it('refuses a date that is not ISO-8601 or not a string, before the tier', () => {
    const { context } = rulesWorld();
    expect(decideLink(entry('Goldstar', { tierName: 'Bronze', tierExpiry: '31/12/2026' }), context)).toBe(
      'INVALID_DATE',
    );
    expect(decideLink(entry('SPP_2', { membershipStart: 20260701 }), context)).toBe('INVALID_DATE');
  });

  it('refuses a tier the program does not have; a SUPPLEMENTARY program has none', () => {
    const { context } = rulesWorld();
    expect(decideLink(entry('Goldstar', { tierName: 'Bronze' }), context)).toBe('TIER_NOT_FOUND');
    expect(decideLink(entry('SPP_2', { tierName: 'Gold' }), context)).toBe('TIER_NOT_FOUND');
  });

  it('refuses a tier expiry or a start before today in the org timezone; earlier today is fine', () => {
    const { context } = rulesWorld();
    expect(decideLink(entry('Goldstar', { tierExpiry: '2026-06-14' }), context)).toBe('TIER_EXPIRY_IN_PAST');
    expect(decideLink(entry('SPP_2', { membershipStart: '2026-06-14T23:59:59+05:30' }), context)).toBe('START_IN_PAST');
    expect(decideLink(entry('SPP_2', { membershipStart: '2026-06-15T00:00:00+05:30' }), context)).toBe('SUCCESS');
  });

  it('refuses a start after the program expires', () => {
    const { context } = rulesWorld();
    expect(decideLink(entry('SPP_SHORT', { membershipStart: '2027-01-01' }), context)).toBe('PROGRAM_EXPIRED');
  });
});

describe('decideLink: already linked (step 5)', () => {
  it('refuses a second link to an EXTERNAL program, or a SUPPLEMENTARY one without a start', () => {
    const { context } = rulesWorld([membership(PROGRAMS.Goldstar), membership(PROGRAMS.SPP_2)]);
    expect(decideLink(entry('Goldstar'), context)).toBe('ALREADY_LINKED');
    expect(decideLink(entry('SPP_2'), context)).toBe('ALREADY_LINKED');
  });

  it('schedules a relink that starts after the current period ends', () => {
    const { context, saves } = rulesWorld([membership(PROGRAMS.SPP_2)]);
    expect(decideLink(entry('SPP_2', { membershipStart: '2026-07-20' }), context)).toBe('SUCCESS');
    const relinkStart = at('2026-07-20T00:00:00+05:30');
    expect(saves).toEqual([
      {
        membership: membership(PROGRAMS.SPP_2, { pendingRelinkStart: relinkStart }),
        activities: [
          {
            customerId: CUSTOMER.id,
            programId: PROGRAMS.SPP_2.id,
            type: 'RELINK_SCHEDULED',
            at: NOW,
            source: 'API',
            details: { relinkStart: relinkStart.toString() },
          },
        ],
      },
    ]);
  });

  it('reschedules a pending relink', () => {
    const pending = membership(PROGRAMS.SPP_2, { pendingRelinkStart: at('2026-07-20T00:00:00+05:30') });
    const { context, saves } = rulesWorld([pending]);
    expect(decideLink(entry('SPP_2', { membershipStart: '2026-08-01' }), context)).toBe('SUCCESS');
    expect(saves[0]!.activities.map((a) => a.type)).toEqual(['RELINK_RESCHEDULED']);
    expect(saves[0]!.membership.pendingRelinkStart).toEqual(at('2026-08-01T00:00:00+05:30'));
  });

  it('refuses a relink that does not start strictly after the current end', () => {
    const { context } = rulesWorld([membership(PROGRAMS.SPP_2)]);
    expect(decideLink(entry('SPP_2', { membershipStart: '2026-07-15T06:30:00Z' }), context)).toBe('ALREADY_LINKED');
  });

  it('refuses a relink when the org has relinking off', () => {
    const { context } = rulesWorld([membership(PROGRAMS.SPP_2)], { org: { ...ORG, configs: {} } });
    expect(decideLink(entry('SPP_2', { membershipStart: '2026-07-20' }), context)).toBe('RELINKING_DISABLED');
  });

  it('counts an expired membership with a pending relink as linked', () => {
    const expired = membership(PROGRAMS.SPP_2, {
      state: 'EXPIRED',
      end: at('2026-06-01T00:00:00Z'),
      pendingRelinkStart: at('2026-07-01T00:00:00Z'),
    });
    expect(decideLink(entry('SPP_2'), rulesWorld([expired]).context)).toBe('ALREADY_LINKED');
  });

  it('warns (1302) when a relink period ends after the program expires', () => {
    const { context, warnings } = rulesWorld([membership(PROGRAMS.SPP_SHORT)]);
    expect(decideLink(entry('SPP_SHORT', { echoName: 'spp_short', membershipStart: '2026-08-01' }), context)).toBe(
      'SUCCESS',
    );
    expect(warnings).toEqual([
      { outcome: 'PROGRAM_EXPIRES_BEFORE_MEMBERSHIP', customerIndex: 0, programName: 'spp_short' },
    ]);
  });
});

describe('decideLink: a new link (steps 6 and 7)', () => {
  it('needs a membership id, unless an earlier membership of the program left one', () => {
    expect(decideLink(entry('Coalition', { membershipId: undefined }), rulesWorld().context)).toBe(
      'MISSING_MEMBERSHIP_ID',
    );
    const delinked = membership(PROGRAMS.Coalition, { state: 'DELINKED', partnerMembershipId: 'OLD' });
    const { context, saves } = rulesWorld([delinked]);
    expect(decideLink(entry('Coalition', { membershipId: undefined }), context)).toBe('SUCCESS');
    expect(saves[0]!.membership).toMatchObject({ id: delinked.id, state: 'LINKED', partnerMembershipId: 'OLD' });
  });

  it('refuses a second SUPPLEMENTARY program of a loyalty program that allows one at a time', () => {
    const { context } = rulesWorld([membership(PROGRAMS.SPP_1)]);
    expect(decideLink(entry('SPP_2'), context)).toBe('ONE_SUPPLEMENTARY_AT_A_TIME');
  });

  it('links a tier-based EXTERNAL program at tier 1 when no tier is given', () => {
    const { context, saves } = rulesWorld();
    expect(decideLink(entry('Goldstar'), context)).toBe('SUCCESS');
    expect(saves).toEqual([
      {
        membership: {
          id: undefined,
          orgId: ORG.id,
          customerId: CUSTOMER.id,
          programId: PROGRAMS.Goldstar.id,
          programType: 'EXTERNAL',
          loyaltyProgramId: 1,
          cycle: null,
          partnerMembershipId: 'M-1',
          pendingRelinkStart: null,
          state: 'LINKED',
          tierNumber: 1,
          tierExpiry: null,
          start: NOW,
          end: null,
        },
        activities: [
          {
            customerId: CUSTOMER.id,
            programId: PROGRAMS.Goldstar.id,
            type: 'ENROLLMENT',
            at: NOW,
            source: 'API',
            details: { partnerMembershipId: 'M-1', tierNumber: 1 },
          },
        ],
      },
    ]);
  });

  it('keeps the tier asked for, case-insensitively, and no tier on a program without tiers', () => {
    const { context, saves } = rulesWorld();
    expect(decideLink(entry('Goldstar', { tierName: 'platinum' }), context)).toBe('SUCCESS');
    expect(decideLink(entry('Coalition'), context)).toBe('SUCCESS');
    expect(saves.map((s) => s.membership.tierNumber)).toEqual([3, null]);
  });

  it('starts a SUPPLEMENTARY period now, for one cycle, and records that it started', () => {
    const { context, saves, warnings } = rulesWorld();
    expect(decideLink(entry('SPP_2'), context)).toBe('SUCCESS');
    expect(saves[0]!.membership).toMatchObject({ state: 'ACTIVE', start: NOW, end: at('2026-07-15T06:30:00Z') });
    expect(saves[0]!.activities.map((a) => [a.type, a.at])).toEqual([
      ['ENROLLMENT', NOW],
      ['SUPPLEMENTARY_MEMBERSHIP_STARTED', NOW],
    ]);
    expect(warnings).toEqual([]);
  });

  it('schedules a SUPPLEMENTARY period that starts later, recording only the enrolment', () => {
    const { context, saves } = rulesWorld();
    expect(decideLink(entry('SPP_1', { membershipStart: '2027-01-31' }), context)).toBe('SUCCESS');
    expect(saves[0]!.membership).toMatchObject({
      state: 'SCHEDULED',
      start: at('2027-01-31T00:00:00+05:30'),
      end: at('2028-01-31T00:00:00+05:30'),
    });
    expect(saves[0]!.activities.map((a) => a.type)).toEqual(['ENROLLMENT']);
  });

  it('warns (1302) when the new period ends after the program expires, and links all the same', () => {
    const { context, saves, warnings } = rulesWorld();
    expect(decideLink(entry('SPP_SHORT'), context)).toBe('SUCCESS');
    expect(saves).toHaveLength(1);
    expect(warnings.map((w) => [w.outcome, w.programName])).toEqual([
      ['PROGRAM_EXPIRES_BEFORE_MEMBERSHIP', 'SPP_SHORT'],
    ]);
  });

  it('sees what an earlier entry of the batch did', () => {
    const { context } = rulesWorld();
    expect(decideLink(entry('SPP_2'), context)).toBe('SUCCESS');
    expect(decideLink(entry('SPP_2'), context)).toBe('ALREADY_LINKED');
    expect(decideLink(entry('SPP_1'), context)).toBe('ONE_SUPPLEMENTARY_AT_A_TIME');
  });
});
