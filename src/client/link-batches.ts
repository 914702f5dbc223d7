import { createHash } from 'node:crypto';
import type { Answer } from './api-client.js';
import { messageOf } from './api-client.js';
import { cellOf, type Columns } from './columns.js';
import type { Batch, ResultRow } from './in-order.js';
import type { Verdict } from './retry.js';

export const LINK_COLUMNS = [
  'mobile',
  'email',
  'externalId',
  'id',
  'partnerProgramName',
  'partnerMembershipId',
  'partnerTierName',
  'partnerTierExpiryDate',
  'membershipStartDate',
] as const;
export type LinkColumn = (typeof LINK_COLUMNS)[number];
export const IDENTIFIER_COLUMNS = ['mobile', 'email', 'externalId', 'id'] as const;
const REFERENCE_COLUMNS = [
  'partnerMembershipId',
  'partnerTierName',
  'partnerTierExpiryDate',
  'membershipStartDate',
] as const;

/** The API's maximum batch (SPEC §4). */
export const ITEMS_PER_BATCH = 50;
/** Rows per customer item, so that one customer's million rows cannot make one request. */
const ENTRIES_PER_ITEM = 50;
/** Rows per batch, settled and malformed ones included, to bound a batch's memory. */
const ROWS_PER_BATCH = 1_000;
/** The code of a row whose batch got no answer (a connection failure, a timeout): see docs/decisions.md. */
export const NO_ANSWER = '0';

/** An input row on its way to RESULT.csv. */
export interface LinkSlot {
  number: number;
  /** The input cells, one per header column. */
  cells: string[];
  /** Its result when already known: a malformed row's, or a settled row of the previous run. */
  result?: ResultRow;
  /** A wrong number of cells: it fails alone, with code 400. */
  malformed: boolean;
}

interface Item {
  key: string;
  slots: LinkSlot[];
}

const succeeded = (code: string) => code === '200';

export function resultRow(cells: readonly string[], customerCode: string, code: string, message: string): ResultRow {
  return { cells: [...cells, customerCode, code, message], tally: { succeeded: succeeded(code), code } };
}

/** A previous run's row, kept as it was. */
export function keptRow(cells: string[]): ResultRow {
  const code = cells[cells.length - 2] ?? '';
  return { cells, tally: { succeeded: succeeded(code), code } };
}

/**
 * Groups rows into customer items (consecutive rows whose identifier cells are all equal) and
 * items into batches of 50. The grouping depends on the input alone, never on what is already
 * settled: a resumed run forms the same batches as the first one, and a batch none of whose
 * rows were settled is sent again with the same body and the same Idempotency-Key, so whatever
 * the first run got applied is replayed, not applied twice. A batch also ends at 1,000 rows.
 */
export async function* linkBatches(
  slots: AsyncIterable<LinkSlot>,
  columns: Columns<LinkColumn>,
  send: (body: string, key: string, items: Item[]) => Promise<ResultRow[][]>,
): AsyncGenerator<Batch> {
  let batch: LinkSlot[] = [];
  let items: Item[] = [];
  let open: Item | undefined;
  const identity = (slot: LinkSlot) =>
    JSON.stringify(IDENTIFIER_COLUMNS.map((name) => cellOf(columns, slot.cells, name) ?? ''));
  const close = () => {
    if (open) items.push(open);
    open = undefined;
  };
  const full = () => items.length >= ITEMS_PER_BATCH || batch.length >= ROWS_PER_BATCH;
  const take = (): Batch => {
    const taken = { slots: batch, items };
    batch = [];
    items = [];
    return () => settleBatch(taken.slots, taken.items, columns, send);
  };

  for await (const slot of slots) {
    if (slot.malformed) {
      // A malformed row belongs to no item: the rows around it are not consecutive.
      close();
      batch.push(slot);
      if (full()) yield take();
      continue;
    }
    const key = identity(slot);
    if (!open || open.key !== key || open.slots.length >= ENTRIES_PER_ITEM) {
      close();
      if (full()) yield take();
      open = { key, slots: [] };
    }
    open.slots.push(slot);
    batch.push(slot);
  }
  close();
  if (batch.length > 0) yield take();
}

/**
 * Sends the batch if any of its rows is still open, and always whole: rows a previous run
 * settled go again with the others, under the key of the whole batch. A run stopped while it
 * wrote a batch's results leaves that batch partly settled, and sending only the rest, under
 * another key, would apply them a second time; the whole batch is a replay of what the first run
 * got applied. The rows a previous run settled keep their result.
 */
async function settleBatch(
  slots: LinkSlot[],
  items: Item[],
  columns: Columns<LinkColumn>,
  send: (body: string, key: string, items: Item[]) => Promise<ResultRow[][]>,
): Promise<ResultRow[]> {
  const results = new Map<LinkSlot, ResultRow>();
  if (items.some((item) => item.slots.some((slot) => slot.result === undefined))) {
    const body = JSON.stringify({ linkCustomers: items.map((item) => linkItem(item.slots, columns)) });
    const answered = await send(body, idempotencyKey(items), items);
    items.forEach((item, i) => item.slots.forEach((slot, j) => results.set(slot, answered[i]![j]!)));
  }
  return slots.map((slot) => slot.result ?? results.get(slot)!);
}

/** One `linkCustomers[]` item: the customer from the first row's identifiers, one entry per row; empty cells left out. */
function linkItem(slots: LinkSlot[], columns: Columns<LinkColumn>) {
  const customer: Record<string, string> = {};
  for (const name of IDENTIFIER_COLUMNS) {
    const value = cellOf(columns, slots[0]!.cells, name);
    if (value !== undefined) customer[name] = value;
  }
  return {
    customer,
    linkToPartnerPrograms: slots.map((slot) => {
      const reference: Record<string, string> = {};
      for (const name of REFERENCE_COLUMNS) {
        const value = cellOf(columns, slot.cells, name);
        if (value !== undefined) reference[name] = value;
      }
      const name = cellOf(columns, slot.cells, 'partnerProgramName');
      return {
        ...(name === undefined ? {} : { partnerProgramName: name }),
        ...(Object.keys(reference).length > 0 ? { customerPartnerReference: reference } : {}),
      };
    }),
  };
}

/**
 * The batch's Idempotency-Key: a hash of the rows it sends, by their row number and cells. The
 * same rows of the same file give the same key in any run (see linkBatches); other rows, or the
 * same rows edited, another key.
 */
export function idempotencyKey(items: ReadonlyArray<{ slots: LinkSlot[] }>): string {
  const rows = items.map((item) => item.slots.map((slot) => [slot.number, slot.cells]));
  return `pp-link-${createHash('sha256').update(JSON.stringify(rows)).digest('hex')}`;
}

interface WireStatus {
  code?: unknown;
  message?: unknown;
}
interface WireItem {
  customer?: { status?: WireStatus };
  linkToPartnerPrograms?: Array<{ partnerLinkStatus?: WireStatus }>;
}
interface WireWarning {
  code?: unknown;
  message?: unknown;
  customerIndex?: unknown;
  partnerProgramName?: unknown;
}

/**
 * What a link answer means for each sent row. Per-entry answers (HTTP 200, 201, 400, 500 with
 * `linkCustomers`) give each row its entry's code and its item's customer code; 2010 and any
 * 5xx are retried, and a 5xx that stays (2001: nothing of the batch was written) gives every
 * row the HTTP status. A whole-request error gives every row its code. 409 (an earlier attempt
 * of this very batch is still being processed) is retried and, if it stays, counts as no answer.
 */
export function judgeLinkAnswer(answer: Answer, items: ReadonlyArray<{ slots: LinkSlot[] }>): Verdict<ResultRow[][]> {
  const every = (customerCode: string, code: string, message: string) =>
    items.map((item) => item.slots.map((slot) => resultRow(slot.cells, customerCode, code, message)));
  const { status, json } = answer;
  const answered = (json as { linkCustomers?: WireItem[] } | undefined)?.linkCustomers;
  if (Array.isArray(answered) && answered.length === items.length) {
    const rows = perEntry(answered, (json as { warnings?: WireWarning[] }).warnings ?? [], items);
    if (status >= 500) {
      const failure = rows.flat().find((row) => row.tally.code !== '200');
      return {
        done: false,
        value: every(
          '',
          String(status),
          `HTTP ${status}, nothing of the batch was applied: ${failure?.cells.at(-1) ?? ''}`,
        ),
      };
    }
    const busy = rows.some((item) => item.some((row) => row.tally.code === '2010'));
    return { done: !busy, value: rows };
  }
  const message = messageOf(json) ?? `HTTP ${status}`;
  const code = (json as { errors?: WireStatus[] } | undefined)?.errors?.[0]?.code;
  if (status === 409) {
    return {
      done: false,
      value: every(
        '',
        NO_ANSWER,
        `no answer yet: an earlier attempt of this batch is still being processed (409: ${message})`,
      ),
    };
  }
  const retry = status === 429 || status >= 500;
  return { done: !retry, value: every('', typeof code === 'number' ? String(code) : String(status), message) };
}

function perEntry(answered: WireItem[], warnings: WireWarning[], items: ReadonlyArray<{ slots: LinkSlot[] }>) {
  return items.map((item, i) => {
    const customerCode = String(answered[i]?.customer?.status?.code ?? '');
    const entries = answered[i]?.linkToPartnerPrograms ?? [];
    return item.slots.map((slot, j) => {
      const status = entries[j]?.partnerLinkStatus;
      if (status === undefined)
        return resultRow(slot.cells, customerCode, String(500), 'the answer has no entry for this row');
      const code = String(status.code ?? '');
      const warned = warnings
        .filter((w) => w.customerIndex === i && typeof w.partnerProgramName === 'string')
        .filter(
          (w) =>
            (w.partnerProgramName as string).toLowerCase() ===
            (entries[j] as { partnerProgramName?: string }).partnerProgramName?.toLowerCase(),
        )
        .map((w) => `; warning ${String(w.code)}: ${String(w.message)}`);
      return resultRow(slot.cells, customerCode, code, `${String(status.message ?? '')}${warned.join('')}`);
    });
  });
}
