import type { Temporal } from 'temporal-polyfill';
import { addCycle } from './dates.js';
import { isLinked, settle, type Activity, type Membership } from '../model/membership.js';
import type { ExpiringProgram } from '../model/program.js';
import { advanceMembership } from './timeline.js';

/**
 * A program's expiry date has come (SPEC §8): each of the customer's memberships in it that was
 * open then ends early at that instant (PARTNER_PROGRAM_EARLY_EXPIRY), its pending relink is
 * cancelled, and, when the program has a usable backup, a membership starts there at that same
 * instant with the same membership id and the backup's cycle
 * (BACKUP_SUPPLEMENTARY_MEMBERSHIP_STARTED). Everything is dated when it fell due, and then
 * brought up to `now`. Returns the customer's memberships that changed and their activities.
 */
export function expireCustomerMemberships(
  memberships: readonly Membership[],
  expired: ReadonlyMap<number, ExpiringProgram>,
  now: Temporal.Instant,
  timeZone: string,
): { changed: Membership[]; activities: Activity[] } {
  const byProgram = new Map(memberships.map((m) => [m.programId, m]));
  const changed = new Map<number, Membership>();
  const activities: Activity[] = [];
  const save = (membership: Membership, more: Activity[]) => {
    byProgram.set(membership.programId, membership);
    changed.set(membership.programId, membership);
    activities.push(...settle(more, membership));
  };

  for (const stored of memberships) {
    const program = expired.get(stored.programId);
    if (!program || stored.programType !== 'SUPPLEMENTARY') continue;
    const at = program.expiryDate;
    // What fell due before the expiry happened as usual.
    const before = advanceMembership(stored, at.subtract({ milliseconds: 1 }), timeZone);
    const m = before.membership;
    const wasOpen = m.state === 'SCHEDULED' || m.state === 'ACTIVE';
    if (!wasOpen && m.pendingRelinkStart === null) continue;
    const job = { customerId: m.customerId, programId: m.programId, at, source: 'JOB' as const };
    const more: Activity[] = [...before.activities];
    if (m.pendingRelinkStart)
      more.push({ ...job, type: 'RELINK_CANCELLED', details: { relinkStart: m.pendingRelinkStart.toString() } });
    if (wasOpen) more.push({ ...job, type: 'PARTNER_PROGRAM_EARLY_EXPIRY' });
    const endsAtExpiry = wasOpen && m.start !== null && m.start.epochMilliseconds < at.epochMilliseconds;
    save(
      { ...m, state: wasOpen ? 'EXPIRED' : m.state, end: endsAtExpiry ? at : m.end, pendingRelinkStart: null },
      more,
    );
    if (wasOpen) startBackup(m, program, save, now, timeZone, byProgram);
  }
  return { changed: [...changed.values()], activities };
}

function startBackup(
  from: Membership,
  program: ExpiringProgram,
  save: (membership: Membership, activities: Activity[]) => void,
  now: Temporal.Instant,
  timeZone: string,
  byProgram: Map<number, Membership>,
): void {
  const backup = program.backup;
  const at = program.expiryDate;
  if (!backup?.active || !backup.cycle) return;
  if (backup.expiryDate && backup.expiryDate.epochMilliseconds <= at.epochMilliseconds) return;
  const current = byProgram.get(backup.id);
  if (current && isLinked(advanceMembership(current, at, timeZone).membership)) return;
  const started: Membership = {
    id: current?.id,
    orgId: from.orgId,
    customerId: from.customerId,
    programId: backup.id,
    programType: 'SUPPLEMENTARY',
    loyaltyProgramId: backup.loyaltyProgramId,
    cycle: backup.cycle,
    partnerMembershipId: from.partnerMembershipId,
    state: 'ACTIVE',
    tierNumber: null,
    tierExpiry: null,
    start: at,
    end: addCycle(at, backup.cycle, timeZone),
    pendingRelinkStart: null,
  };
  const job = { customerId: from.customerId, programId: backup.id, source: 'JOB' as const };
  const caughtUp = advanceMembership(started, now, timeZone);
  save(caughtUp.membership, [
    { ...job, type: 'BACKUP_SUPPLEMENTARY_MEMBERSHIP_STARTED', at, details: { fromPartnerProgramId: program.id } },
    ...caughtUp.activities,
  ]);
}
