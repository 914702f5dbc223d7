import { parseCustomer, type ParsedCustomer } from '../customers.js';
import type { EntryOutcome } from '../outcomes.js';

/** One program entry of a link request, checked for shape only (rules come later). */
export interface LinkProgramRequest {
  /** The name as sent, echoed in the response ("" when it was not a string). */
  echoName: string;
  /** A shape failure that decides the entry before any rule runs. */
  failure?: EntryOutcome;
  name: string;
  membershipId?: string;
  tierName?: string;
  tierExpiry?: unknown;
  membershipStart?: unknown;
}

export interface LinkCustomerRequest {
  customer: ParsedCustomer;
  programs: LinkProgramRequest[];
}

const MAX_MEMBERSHIP_ID_LENGTH = 255;

/**
 * Reads one `linkCustomers[]` item. Never throws: a malformed item fails alone (SPEC §3a), its
 * customer as 1015 when the customer part is unusable, its program entries as 2002.
 */
export function readLinkCustomer(raw: unknown): LinkCustomerRequest {
  if (!isObject(raw)) return { customer: parseCustomer(undefined), programs: [] };
  const customer = parseCustomer(raw.customer);
  const list = raw.linkToPartnerPrograms;
  if (!Array.isArray(list) || list.length === 0) {
    return { customer, programs: [{ echoName: '', name: '', failure: 'MISSING_PROGRAM_LIST' }] };
  }
  return { customer, programs: list.map(readLinkProgram) };
}

function readLinkProgram(raw: unknown): LinkProgramRequest {
  if (!isObject(raw)) return { echoName: '', name: '', failure: 'MALFORMED_ENTRY' };
  const name = raw.partnerProgramName;
  if (typeof name !== 'string' || name === '') {
    return { echoName: typeof name === 'string' ? name : '', name: '', failure: 'MISSING_PROGRAM_NAME' };
  }
  const entry: LinkProgramRequest = { echoName: name, name };
  const reference = raw.customerPartnerReference;
  if (reference === undefined || reference === null) return entry;
  if (!isObject(reference)) return { ...entry, failure: 'MALFORMED_REFERENCE' };

  const membershipId = reference.partnerMembershipId;
  if (typeof membershipId === 'number' && Number.isSafeInteger(membershipId) && membershipId >= 0) {
    entry.membershipId = String(membershipId);
  } else if (typeof membershipId === 'string' && membershipId !== '') {
    if (membershipId.length > MAX_MEMBERSHIP_ID_LENGTH || membershipId.includes('\u0000')) {
      return { ...entry, failure: 'MEMBERSHIP_ID_TOO_LONG' };
    }
    entry.membershipId = membershipId;
  } else if (!isEmpty(membershipId)) {
    return { ...entry, failure: 'MALFORMED_REFERENCE' };
  }

  const tierName = reference.partnerTierName;
  if (typeof tierName === 'string' && tierName !== '') entry.tierName = tierName;
  else if (!isEmpty(tierName)) return { ...entry, failure: 'MALFORMED_REFERENCE' };

  if (!isEmpty(reference.partnerTierExpiryDate)) entry.tierExpiry = reference.partnerTierExpiryDate;
  if (!isEmpty(reference.membershipStartDate)) entry.membershipStart = reference.membershipStartDate;
  return entry;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isEmpty(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}
