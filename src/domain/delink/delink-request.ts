import type { BatchEntry, BatchItem } from '../batch/batch-runner.js';
import { parseCustomer } from '../customers.js';
import { isObject } from '../request-fields.js';

/** One program entry of a delink request: only the program is named. */
export type DelinkEntry = BatchEntry;

/**
 * Reads one `deLinkCustomers[]` item. Never throws: a malformed item fails alone (SPEC §3a), its
 * customer as 1015 when the customer part is unusable, its program entries as 2002.
 */
export function readDelinkItem(raw: unknown): BatchItem<DelinkEntry> {
  if (!isObject(raw)) return { customer: parseCustomer(undefined), entries: [] };
  const customer = parseCustomer(raw.customer);
  const list = raw.deLinkFromPartnerPrograms;
  if (!Array.isArray(list) || list.length === 0) {
    return { customer, entries: [{ echoName: '', name: '', failure: 'MISSING_DELINK_LIST' }] };
  }
  return { customer, entries: list.map(readDelinkEntry) };
}

function readDelinkEntry(raw: unknown): DelinkEntry {
  if (!isObject(raw)) return { echoName: '', name: '', failure: 'MALFORMED_ENTRY' };
  const name = raw.partnerProgramName;
  if (typeof name !== 'string' || name === '') {
    return { echoName: typeof name === 'string' ? name : '', name: '', failure: 'MISSING_PROGRAM_NAME' };
  }
  return { echoName: name, name };
}
