import type { BatchEntry, BatchItem } from '../batch/batch-runner.js';
import { parseCustomer } from '../customers.js';
import { isEmpty, isObject } from '../request-fields.js';

/** One program entry of an update request, checked for shape only (rules come later). */
export interface UpdateEntry extends BatchEntry {
  /** `updateType` as sent, echoed in the response ("" when it was not a string). */
  echoType: string;
  /** `updateType` when it is a non-empty string; its validity is a rule, checked after the program. */
  updateType?: string;
  tierName?: string;
  /** Kept unparsed: the date format is a rule of the update types that use it. */
  tierExpiry?: string;
}

/**
 * Reads one `customersPartnerUpdates[]` item. Never throws: a malformed item fails alone (SPEC
 * §3a), its customer as 1015 when the customer part is unusable, its program entries as 2002.
 */
export function readUpdateItem(raw: unknown): BatchItem<UpdateEntry> {
  if (!isObject(raw)) return { customer: parseCustomer(undefined), entries: [] };
  const customer = parseCustomer(raw.customer);
  const list = raw.partnerProgramUpdates;
  if (!Array.isArray(list) || list.length === 0) {
    return { customer, entries: [{ echoName: '', name: '', echoType: '', failure: 'MISSING_UPDATE_LIST' }] };
  }
  return { customer, entries: list.map(readUpdateEntry) };
}

function readUpdateEntry(raw: unknown): UpdateEntry {
  if (!isObject(raw)) return { echoName: '', name: '', echoType: '', failure: 'MALFORMED_ENTRY' };
  const type = raw.updateType;
  const echoType = typeof type === 'string' ? type : '';
  const name = raw.partnerProgramName;
  if (typeof name !== 'string' || name === '') {
    return { echoName: typeof name === 'string' ? name : '', name: '', echoType, failure: 'MISSING_PROGRAM_NAME' };
  }
  // A missing or non-string updateType is not a shape failure here: SPEC §5 checks the program
  // (2006) before the update type, so the policy answers it in that order.
  const entry: UpdateEntry = { echoName: name, name, echoType };
  if (echoType !== '') entry.updateType = echoType;

  const details = raw.updateDetails;
  if (details === undefined || details === null) return entry;
  if (!isObject(details)) return { ...entry, failure: 'MALFORMED_UPDATE_DETAILS' };
  const { updatedTierName, updatedTierExpiryDate } = details;
  if (!isEmpty(updatedTierName) && typeof updatedTierName !== 'string')
    return { ...entry, failure: 'MALFORMED_UPDATE_DETAILS' };
  if (!isEmpty(updatedTierExpiryDate) && typeof updatedTierExpiryDate !== 'string') {
    return { ...entry, failure: 'MALFORMED_UPDATE_DETAILS' };
  }
  if (typeof updatedTierName === 'string' && updatedTierName !== '') entry.tierName = updatedTierName;
  if (typeof updatedTierExpiryDate === 'string' && updatedTierExpiryDate !== '')
    entry.tierExpiry = updatedTierExpiryDate;
  return entry;
}
