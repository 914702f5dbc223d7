import { describe, expect, it } from 'vitest';
import { decideDelink } from '../../src/domain/delink/delink-policy.js';
import { at, CUSTOMER, membership, NOW, PROGRAMS, rulesWorld } from '../support/rules.js';

// SPEC §6 on decideDelink alone: no database, no HTTP.
const entry = (name: string) => ({ echoName: name, name });

describe('decideDelink', () => {
  it('refuses a program the org does not have, and a customer not linked to it', () => {
    const { context, saves } = rulesWorld([
      membership(PROGRAMS.Goldstar, { state: 'DELINKED' }),
      membership(PROGRAMS.SPP_2, { state: 'EXPIRED' }),
    ]);
    expect(decideDelink(entry('Nowhere'), context)).toBe('PROGRAM_NOT_FOUND');
    expect(decideDelink(entry('Coalition'), context)).toBe('NOT_LINKED');
    expect(decideDelink(entry('Goldstar'), context)).toBe('NOT_LINKED');
    expect(decideDelink(entry('SPP_2'), context)).toBe('NOT_LINKED');
    expect(saves).toEqual([]);
  });

  it('lets a customer leave an inactive or expired program', () => {
    const { context } = rulesWorld([membership(PROGRAMS.Dormant), membership(PROGRAMS.Bygone)]);
    expect(decideDelink(entry('dormant'), context)).toBe('SUCCESS');
    expect(decideDelink(entry('BYGONE'), context)).toBe('SUCCESS');
  });

  it('keeps the period, tier and membership id as history, and records the state it left', () => {
    const linked = membership(PROGRAMS.Goldstar, { tierNumber: 3 });
    const { context, saves } = rulesWorld([linked]);
    expect(decideDelink(entry('Goldstar'), context)).toBe('SUCCESS');
    expect(saves).toEqual([
      {
        membership: { ...linked, state: 'DELINKED' },
        activities: [
          {
            customerId: CUSTOMER.id,
            programId: PROGRAMS.Goldstar.id,
            type: 'DELINKING',
            at: NOW,
            source: 'API',
            details: { previousState: 'LINKED' },
          },
        ],
      },
    ]);
    expect(decideDelink(entry('Goldstar'), context)).toBe('NOT_LINKED');
  });

  it('cancels a pending relink first, and delinks an expired membership still waiting for one', () => {
    const relinkStart = at('2026-07-01T00:00:00Z');
    const waiting = membership(PROGRAMS.SPP_2, { state: 'EXPIRED', pendingRelinkStart: relinkStart });
    const { context, saves } = rulesWorld([waiting]);
    expect(decideDelink(entry('SPP_2'), context)).toBe('SUCCESS');
    expect(saves[0]!.membership).toEqual({ ...waiting, state: 'DELINKED', pendingRelinkStart: null });
    expect(saves[0]!.activities.map((a) => [a.type, a.details])).toEqual([
      ['RELINK_CANCELLED', { relinkStart: relinkStart.toString() }],
      ['DELINKING', { previousState: 'EXPIRED' }],
    ]);
  });
});
