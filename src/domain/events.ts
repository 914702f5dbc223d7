import { randomUUID } from 'node:crypto';
import { Temporal } from 'temporal-polyfill';
import type { CustomerIdentifiers } from '../model/customer.js';
import type { EventName, EventSource, NewEvent } from '../model/event.js';
import type { Activity, Membership } from '../model/membership.js';
import type { PartnerProgram } from '../model/program.js';
import { calendarDateInZone, formatInZone } from './dates.js';

/** What an event says of its program. */
export type ProgramFacts = Pick<PartnerProgram, 'id' | 'name' | 'type' | 'loyaltyProgramId' | 'tiers'>;

/** Everything the events of one transaction's changes are written with, beyond the changes themselves. */
export interface EventFacts {
  timeZoneOf(orgId: number): string;
  customer(customerId: number): CustomerIdentifiers | undefined;
  program(programId: number): ProgramFacts | undefined;
  /** The request's X-Request-Id (SPEC §9.2); its changes' events carry it, a job's carry null. */
  requestId: string | null;
  /** The source of the request's own changes (API or CONSOLE); a catch-up's are JOB. */
  source: Exclude<EventSource, 'JOB'>;
}

/** The event an activity emits (SPEC §9.1), with the fields it adds to `data`; none for the rest. */
function eventOf(
  activity: Activity,
  timeZone: string,
): { name: EventName; extra: Record<string, unknown> } | undefined {
  const details = activity.details ?? {};
  const zoned = (iso: unknown) => (typeof iso === 'string' ? formatInZone(Temporal.Instant.from(iso), timeZone) : null);
  switch (activity.type) {
    case 'ENROLLMENT':
      return { name: 'partnerProgramLinked', extra: {} };
    case 'RELINK_SCHEDULED':
    case 'RELINK_RESCHEDULED':
      return {
        name: 'partnerProgramRelinkScheduled',
        extra: { relinkStartDate: zoned(details.relinkStart), rescheduled: activity.type === 'RELINK_RESCHEDULED' },
      };
    case 'UPGRADE':
    case 'DOWNGRADE':
    case 'RENEW':
    case 'UPDATE':
      return { name: 'partnerProgramUpdated', extra: { updateType: activity.type } };
    case 'RELINK_CANCELLED':
      return { name: 'partnerProgramRelinkCancelled', extra: { cancelledRelinkStartDate: zoned(details.relinkStart) } };
    case 'DELINKING':
      return { name: 'partnerProgramDelinked', extra: {} };
    case 'SUPPLEMENTARY_MEMBERSHIP_STARTED':
      // A link that starts its period at once says so with partnerProgramLinked alone.
      if (activity.source !== 'JOB') return undefined;
      return { name: 'supplementaryMembershipStarted', extra: { reason: activity.reason ?? 'SCHEDULED_START' } };
    case 'BACKUP_SUPPLEMENTARY_MEMBERSHIP_STARTED':
      return { name: 'supplementaryMembershipStarted', extra: { reason: 'BACKUP_PROGRAM' } };
    case 'SUPPLEMENTARY_MEMBERSHIP_EXPIRED':
      return { name: 'supplementaryMembershipExpired', extra: { reason: 'PERIOD_END' } };
    case 'PARTNER_PROGRAM_EARLY_EXPIRY':
      return { name: 'supplementaryMembershipExpired', extra: { reason: 'PROGRAM_EXPIRY' } };
    case 'SUPPLEMENTARY_MEMBERSHIP_EXPIRY_REMINDER':
      return {
        name: 'supplementaryMembershipExpiryReminder',
        extra: { scheduledExpiryDate: zoned(details.scheduledExpiryDate), daysBefore: details.daysBeforeExpiry },
      };
  }
}

/**
 * The events of a transaction's changes, in the order the changes were made (SPEC §9.1): each
 * activity that emits one, with the membership as that change left it (`activity.membership`).
 */
export function eventsOf(activities: readonly Activity[], facts: EventFacts): NewEvent[] {
  const events: NewEvent[] = [];
  for (const activity of activities) {
    const membership = activity.membership;
    if (!membership) continue;
    const timeZone = facts.timeZoneOf(membership.orgId);
    const event = eventOf(activity, timeZone);
    if (!event) continue;
    const program = facts.program(membership.programId);
    const customer = facts.customer(membership.customerId);
    if (!program || !customer)
      throw new Error(`No facts for the event of membership ${membership.customerId}:${membership.programId}`);
    const job = activity.source === 'JOB';
    events.push({
      id: randomUUID(),
      orgId: membership.orgId,
      name: event.name,
      customerId: customer.id,
      createdAt: activity.at,
      source: job ? 'JOB' : facts.source,
      apiRequestId: job ? null : facts.requestId,
      data: JSON.stringify({
        customerIdentifiers: {
          customerId: customer.id,
          instore: {
            mobile: customer.mobile ?? '',
            email: customer.email ?? '',
            externalId: customer.externalId ?? '',
          },
        },
        entityInformation: { entityType: 'USER', entityId: customer.id },
        loyaltyProgramId: program.loyaltyProgramId,
        partnerProgramId: program.id,
        partnerProgramName: program.name,
        partnerProgramType: program.type,
        customerPartnerProgramDetails: detailsOf(membership, program, timeZone),
        ...event.extra,
      }),
    });
  }
  return events;
}

/** `customerPartnerProgramDetails`: the membership after the change (SPEC §9.2). */
function detailsOf(m: Membership, program: ProgramFacts, timeZone: string): Record<string, unknown> {
  if (m.programType === 'EXTERNAL') {
    const tier = m.tierNumber === null ? undefined : program.tiers.find((t) => t.number === m.tierNumber);
    return {
      membershipNumber: m.partnerMembershipId,
      partnerTierNumber: program.tiers.length > 0 ? m.tierNumber : null,
      partnerTierName: program.tiers.length > 0 ? (tier?.name ?? null) : null,
      partnerTierExpiryDate: m.tierExpiry ? formatInZone(m.tierExpiry, timeZone) : null,
      partnerTierExpiryDateInMillis: m.tierExpiry ? m.tierExpiry.epochMilliseconds : null,
    };
  }
  return {
    membershipNumber: m.partnerMembershipId,
    membershipStartDate: m.start ? formatInZone(m.start, timeZone) : null,
    membershipEndDate: m.end ? formatInZone(m.end, timeZone) : null,
    membershipExpiryDate: m.end ? calendarDateInZone(m.end, timeZone) : null,
  };
}
