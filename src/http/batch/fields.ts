import type { BatchEntry, BatchItem } from '../../domain/batch/batch-runner.js';
import { parseCustomer, type SentCustomer } from './customer.js';
import { isObject } from './entry-check.js';

/** A batch item as read from the wire: the domain's item, its customer part with the identifiers as sent. */
export type SentItem<E extends BatchEntry> = BatchItem<E> & { customer: SentCustomer };

/** Small readers shared by the batch endpoints' entry parsers (SPEC §3a: "" counts as absent). */

export function isEmpty(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}

/** The program name echoed for an entry: as sent when it is a string, else "". */
export function echoedName(raw: unknown): string {
  return isObject(raw) && typeof raw.partnerProgramName === 'string' ? raw.partnerProgramName : '';
}

/**
 * Reads one item of a batch array: its customer part and each of its program entries on its own.
 * Never throws: an item that is not an object has an unusable customer (1015) and no entries; a
 * missing or empty entry list is one failed entry (2002).
 */
export function readBatchItem<E extends BatchEntry>(
  raw: unknown,
  listField: string,
  missingList: E,
  readEntry: (raw: unknown) => E,
): SentItem<E> {
  if (!isObject(raw)) return { customer: parseCustomer(undefined), entries: [] };
  const customer = parseCustomer(raw.customer);
  const list = raw[listField];
  if (!Array.isArray(list) || list.length === 0) return { customer, entries: [missingList] };
  return { customer, entries: list.map(readEntry) };
}
