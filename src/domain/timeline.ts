import type { Temporal } from 'temporal-polyfill';
import { addCycle } from './dates.js';
import type { Activity, Membership } from '../model/membership.js';

/**
 * Brings one SUPPLEMENTARY membership up to `now`: a scheduled period starts at its start, an
 * open period expires at its end, and a pending relink starts its new period at its own start
 * (surviving any gap after the old end). Each step is dated at the instant it fell due and
 * recorded with source JOB, whether the scheduler or a request touching the row gets there first,
 * so the outcome never depends on how late the scheduler runs.
 */
export function advanceMembership(
  membership: Membership,
  now: Temporal.Instant,
  timeZone: string,
): { membership: Membership; activities: Activity[] } {
  if (membership.programType !== 'SUPPLEMENTARY' || !membership.cycle) return { membership, activities: [] };
  const cycle = membership.cycle;
  const activities: Activity[] = [];
  const m = { ...membership };
  const record = (type: Activity['type'], at: Temporal.Instant, reason?: Activity['reason']) =>
    activities.push({
      customerId: m.customerId,
      programId: m.programId,
      type,
      at,
      source: 'JOB',
      membership: { ...m },
      reason,
    });

  for (;;) {
    if (m.state === 'SCHEDULED' && m.start && lte(m.start, now)) {
      m.state = 'ACTIVE';
      record('SUPPLEMENTARY_MEMBERSHIP_STARTED', m.start, 'SCHEDULED_START');
    } else if (m.state === 'ACTIVE' && m.end && lte(m.end, now)) {
      m.state = 'EXPIRED';
      record('SUPPLEMENTARY_MEMBERSHIP_EXPIRED', m.end);
    } else if (m.state === 'EXPIRED' && m.pendingRelinkStart && lte(m.pendingRelinkStart, now)) {
      m.start = m.pendingRelinkStart;
      m.end = addCycle(m.start, cycle, timeZone);
      m.pendingRelinkStart = null;
      m.state = 'ACTIVE';
      record('SUPPLEMENTARY_MEMBERSHIP_STARTED', m.start, 'RELINK');
    } else {
      break;
    }
  }
  return { membership: activities.length > 0 ? m : membership, activities };
}

function lte(a: Temporal.Instant, b: Temporal.Instant): boolean {
  return a.epochMilliseconds <= b.epochMilliseconds;
}
