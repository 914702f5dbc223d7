import { describe, expect, it } from 'vitest';
import { expireCustomerMemberships } from '../../src/domain/program-expiry.js';
import type { ExpiringProgram, PartnerProgram } from '../../src/model/program.js';
import { at, CUSTOMER, membership, PROGRAMS } from '../support/rules.js';

// SPEC §8, a program's expiry date coming, on expireCustomerMemberships alone.
const ZONE = 'Asia/Kolkata';
const EXPIRY = at('2026-06-20T00:00:00Z');
const AFTER = at('2026-06-21T00:00:00Z');
const BACKUP: PartnerProgram = { ...PROGRAMS.SPP_1, id: 50, name: 'BACKUP', expiryDate: null };

function expiring(backup: PartnerProgram | null = null): ReadonlyMap<number, ExpiringProgram> {
  return new Map([[PROGRAMS.SPP_2.id, { id: PROGRAMS.SPP_2.id, expiryDate: EXPIRY, backup }]]);
}

const job = (type: string, programId: number, when = EXPIRY) => ({
  customerId: CUSTOMER.id,
  programId,
  type,
  at: when,
  source: 'JOB',
});

describe('expireCustomerMemberships', () => {
  it('ends an open membership early, at the expiry instant', () => {
    const active = membership(PROGRAMS.SPP_2);
    const { changed, activities } = expireCustomerMemberships([active], expiring(), AFTER, ZONE);
    expect(changed).toEqual([{ ...active, state: 'EXPIRED', end: EXPIRY }]);
    expect(activities).toMatchObject([job('PARTNER_PROGRAM_EARLY_EXPIRY', PROGRAMS.SPP_2.id)]);
  });

  it('cancels a pending relink, of an open membership or of an expired one', () => {
    const relinkStart = at('2026-08-01T00:00:00Z');
    const open = membership(PROGRAMS.SPP_2, { pendingRelinkStart: relinkStart });
    const first = expireCustomerMemberships([open], expiring(), AFTER, ZONE);
    expect(first.changed).toEqual([{ ...open, state: 'EXPIRED', end: EXPIRY, pendingRelinkStart: null }]);
    expect(first.activities).toMatchObject([
      { ...job('RELINK_CANCELLED', PROGRAMS.SPP_2.id), details: { relinkStart: relinkStart.toString() } },
      job('PARTNER_PROGRAM_EARLY_EXPIRY', PROGRAMS.SPP_2.id),
    ]);

    const waiting = { ...open, state: 'EXPIRED' as const, end: at('2026-06-01T00:00:00Z') };
    const second = expireCustomerMemberships([waiting], expiring(), AFTER, ZONE);
    expect(second.changed).toEqual([{ ...waiting, pendingRelinkStart: null }]);
    expect(second.activities.map((a) => a.type)).toEqual(['RELINK_CANCELLED']);
  });

  it('leaves alone what was not open, and memberships of other programs', () => {
    const untouched = [
      membership(PROGRAMS.SPP_2, { state: 'EXPIRED', end: at('2026-06-01T00:00:00Z') }),
      membership(PROGRAMS.Goldstar),
      membership(PROGRAMS.SPP_1),
    ];
    expect(expireCustomerMemberships(untouched, expiring(), AFTER, ZONE)).toEqual({ changed: [], activities: [] });
    const delinked = membership(PROGRAMS.SPP_2, { state: 'DELINKED' });
    expect(expireCustomerMemberships([delinked], expiring(), AFTER, ZONE)).toEqual({ changed: [], activities: [] });
  });

  it('first lets happen what fell due before the expiry', () => {
    const scheduled = membership(PROGRAMS.SPP_2, {
      state: 'SCHEDULED',
      start: at('2026-06-18T00:00:00Z'),
      end: at('2026-07-18T00:00:00Z'),
    });
    const { changed, activities } = expireCustomerMemberships([scheduled], expiring(), AFTER, ZONE);
    expect(activities.map((a) => [a.type, a.at])).toEqual([
      ['SUPPLEMENTARY_MEMBERSHIP_STARTED', at('2026-06-18T00:00:00Z')],
      ['PARTNER_PROGRAM_EARLY_EXPIRY', EXPIRY],
    ]);
    expect(changed[0]).toMatchObject({ state: 'EXPIRED', start: at('2026-06-18T00:00:00Z'), end: EXPIRY });
  });

  it('expires a period that had not started by then, keeping its dates', () => {
    const later = membership(PROGRAMS.SPP_2, {
      state: 'SCHEDULED',
      start: at('2026-07-01T00:00:00Z'),
      end: at('2026-07-31T00:00:00Z'),
    });
    const { changed } = expireCustomerMemberships([later], expiring(), AFTER, ZONE);
    expect(changed).toEqual([{ ...later, state: 'EXPIRED' }]);
  });

  it('moves the customer to the backup at the expiry instant, same membership id, the backup’s cycle', () => {
    const active = membership(PROGRAMS.SPP_2, { partnerMembershipId: 'KEEP' });
    const { changed, activities } = expireCustomerMemberships([active], expiring(BACKUP), AFTER, ZONE);
    expect(changed[1]).toEqual({
      id: undefined,
      orgId: active.orgId,
      customerId: CUSTOMER.id,
      programId: BACKUP.id,
      programType: 'SUPPLEMENTARY',
      loyaltyProgramId: BACKUP.loyaltyProgramId,
      cycle: BACKUP.cycle,
      partnerMembershipId: 'KEEP',
      state: 'ACTIVE',
      tierNumber: null,
      tierExpiry: null,
      start: EXPIRY,
      end: at('2027-06-20T00:00:00Z'),
      pendingRelinkStart: null,
    });
    expect(activities).toMatchObject([
      job('PARTNER_PROGRAM_EARLY_EXPIRY', PROGRAMS.SPP_2.id),
      {
        ...job('BACKUP_SUPPLEMENTARY_MEMBERSHIP_STARTED', BACKUP.id),
        details: { fromPartnerProgramId: PROGRAMS.SPP_2.id },
      },
    ]);
  });

  it('brings the backup membership up to now, reusing a row the customer had there', () => {
    const short = { ...BACKUP, cycle: { unit: 'DAYS' as const, value: 1 } };
    const old = membership(short, { id: 77, state: 'EXPIRED', end: at('2026-01-01T00:00:00Z') });
    const { changed, activities } = expireCustomerMemberships(
      [membership(PROGRAMS.SPP_2), old],
      expiring(short),
      AFTER,
      ZONE,
    );
    expect(changed[1]).toMatchObject({ id: 77, state: 'EXPIRED', start: EXPIRY, end: at('2026-06-21T00:00:00Z') });
    expect(activities.map((a) => a.type)).toEqual([
      'PARTNER_PROGRAM_EARLY_EXPIRY',
      'BACKUP_SUPPLEMENTARY_MEMBERSHIP_STARTED',
      'SUPPLEMENTARY_MEMBERSHIP_EXPIRED',
    ]);
  });

  it('starts no backup that is inactive, has no cycle, expires by then, or already holds the customer', () => {
    const cases: Array<{ backup: PartnerProgram; memberships?: ReturnType<typeof membership>[] }> = [
      { backup: { ...BACKUP, active: false } },
      { backup: { ...BACKUP, cycle: null } },
      { backup: { ...BACKUP, expiryDate: EXPIRY } },
      { backup: BACKUP, memberships: [membership(BACKUP)] },
    ];
    for (const { backup, memberships = [] } of cases) {
      const { activities } = expireCustomerMemberships(
        [membership(PROGRAMS.SPP_2), ...memberships],
        expiring(backup),
        AFTER,
        ZONE,
      );
      expect(activities.map((a) => a.type)).toEqual(['PARTNER_PROGRAM_EARLY_EXPIRY']);
    }
  });
});
