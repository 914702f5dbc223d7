import type { BatchEntry, BatchOutcome, CustomerResult, Warning } from '../../domain/batch/batch-runner.js';
import {
  customerOutcomes,
  entryOutcomes,
  warningOutcomes,
  type CustomerOutcome,
  type EntryOutcome,
} from '../../domain/outcomes.js';
import type { Status } from '../envelope.js';
import { storedCustomerEcho, type SentCustomer } from './customer.js';

function isCustomerOutcome(outcome: string): outcome is CustomerOutcome {
  return Object.hasOwn(customerOutcomes, outcome);
}

/**
 * The wire status of an outcome: its code and message, `status` true for SUCCESS and FOUND only.
 * An entry of a customer that was not found carries the customer's outcome, so this serves both.
 */
export function wireStatus(outcome: EntryOutcome | CustomerOutcome): Status {
  if (isCustomerOutcome(outcome)) {
    const { code, message } = customerOutcomes[outcome];
    return { status: outcome === 'FOUND', code, message };
  }
  const { code, message } = entryOutcomes[outcome];
  return { status: outcome === 'SUCCESS', code, message };
}

/** An item's `customer` answer: the stored customer when found, else the identifiers as sent; with its status. */
export function customerAnswer(sent: SentCustomer, result: CustomerResult) {
  const status = wireStatus(result.outcome);
  if (result.outcome === 'FOUND') return { ...storedCustomerEcho(result.customer), status };
  return { ...sent.echo, status };
}

/** A warning in the top-level `warnings[]`: `{status:false, code, message, customerIndex, partnerProgramName}`. */
export function warningAnswer(warning: Warning) {
  const { code, message } = warningOutcomes[warning.outcome];
  return {
    status: false,
    code,
    message,
    customerIndex: warning.customerIndex,
    partnerProgramName: warning.programName,
  };
}

/** How many program entries of a processed batch answer each code (a customer's code on its entries). */
export function entryCodes(outcome: BatchOutcome<BatchEntry>): Map<number, number> {
  const counts = new Map<number, number>();
  for (const item of outcome.items) {
    for (const { outcome: entryOutcome } of item.entries) {
      const { code } = wireStatus(entryOutcome);
      counts.set(code, (counts.get(code) ?? 0) + 1);
    }
  }
  return counts;
}
