import type { BatchEntry, BatchItem } from '../batch/batch-runner.js';
import { parseCustomer } from '../customers.js';
import { isEmpty, isObject, readMembershipId } from '../request-fields.js';

/** One program entry of a link request, checked for shape only (rules come later). */
export interface LinkEntry extends BatchEntry {
  membershipId?: string;
  tierName?: string;
  tierExpiry?: unknown;
  membershipStart?: unknown;
}

/**
 * Reads one `linkCustomers[]` item. Never throws: a malformed item fails alone (SPEC §3a), its
 * customer as 1015 when the customer part is unusable, its program entries as 2002.
 */
export function readLinkItem(raw: unknown): BatchItem<LinkEntry> {
  if (!isObject(raw)) return { customer: parseCustomer(undefined), entries: [] };
  const customer = parseCustomer(raw.customer);
  const list = raw.linkToPartnerPrograms;
  if (!Array.isArray(list) || list.length === 0) {
    return { customer, entries: [{ echoName: '', name: '', failure: 'MISSING_PROGRAM_LIST' }] };
  }
  return { customer, entries: list.map(readLinkEntry) };
}

function readLinkEntry(raw: unknown): LinkEntry {
  if (!isObject(raw)) return { echoName: '', name: '', failure: 'MALFORMED_ENTRY' };
  const name = raw.partnerProgramName;
  if (typeof name !== 'string' || name === '') {
    return { echoName: typeof name === 'string' ? name : '', name: '', failure: 'MISSING_PROGRAM_NAME' };
  }
  const entry: LinkEntry = { echoName: name, name };
  const reference = raw.customerPartnerReference;
  if (reference === undefined || reference === null) return entry;
  if (!isObject(reference)) return { ...entry, failure: 'MALFORMED_REFERENCE' };

  const membershipId = readMembershipId(reference.partnerMembershipId);
  if (membershipId === 'too-long') return { ...entry, failure: 'MEMBERSHIP_ID_TOO_LONG' };
  if (membershipId === 'malformed') return { ...entry, failure: 'MALFORMED_REFERENCE' };
  if (membershipId !== undefined) entry.membershipId = membershipId;

  const tierName = reference.partnerTierName;
  if (typeof tierName === 'string' && tierName !== '') entry.tierName = tierName;
  else if (!isEmpty(tierName)) return { ...entry, failure: 'MALFORMED_REFERENCE' };

  if (!isEmpty(reference.partnerTierExpiryDate)) entry.tierExpiry = reference.partnerTierExpiryDate;
  if (!isEmpty(reference.membershipStartDate)) entry.membershipStart = reference.membershipStartDate;
  return entry;
}
