import { ApiClient, messageOf, type Answer } from './api-client.js';
import { rowCells, type BulkOptions } from './bulk-options.js';
import { runBulk, type BulkRun } from './bulk-command.js';
import { CannotRun } from './cannot-run.js';
import { cellOf, matchColumns, type Columns } from './columns.js';
import { assertReadable, openCsv } from './csv-rows.js';
import { adminCredentials } from './credentials.js';
import type { Batch, ResultRow } from './in-order.js';
import type { Verdict } from './retry.js';

const IMPORT_COLUMNS = ['id', 'mobile', 'email', 'externalId', 'loyaltyPrograms'] as const;
type ImportColumn = (typeof IMPORT_COLUMNS)[number];
const IDENTIFIERS = ['id', 'mobile', 'email', 'externalId'] as const;
export const IMPORT_RESULT_COLUMNS = ['customerId', 'error'];
/** The admin API's maximum (SPEC §2a). */
const ROWS_PER_REQUEST = 1_000;
/** The summary's code for a row the admin API refused (its message is in `error`). */
const REFUSED = '400';
const NO_ANSWER = '0';

export interface ImportOptions extends BulkOptions {
  org: number;
}

/**
 * `partner-programs import-customers FILE.csv --org ID` (SPEC §2a): customers upserted through
 * the admin API, 1,000 a request. The API takes a request whole or not at all and names every
 * entry at fault (`customers[3].email: …`), so a refused request is sent again without the
 * entries it named, until what is left goes through: each row ends with its customer id, or
 * with the API's message for it.
 */
export function importCustomers(options: ImportOptions): Promise<0 | 1 | 2> {
  return runBulk(() => prepareImport(options));
}

async function prepareImport(options: ImportOptions): Promise<BulkRun> {
  const { file, out, org } = options;
  const credentials = adminCredentials(options.env);
  await assertReadable(file);
  const input = await openCsv(file);
  input.close();
  if (input.header.length === 0) throw new CannotRun(`${file} is empty: it needs a header row`);
  const columns = matchColumns(input.header, IMPORT_COLUMNS, file);
  if (!IDENTIFIERS.some((name) => columns.at.has(name))) {
    throw new CannotRun(`${file}: the header has no identifier column (${IDENTIFIERS.join(', ')})`);
  }
  const client = new ApiClient(options.url, options.concurrency, credentials);
  const path = `/admin/v1/orgs/${org}/customers`;
  return {
    file,
    out,
    resultHeader: [...columns.header, ...IMPORT_RESULT_COLUMNS],
    mode: 'in place',
    client,
    concurrency: options.concurrency,
    probe: () => probeOrg(client, org),
    batches: () => importBatches(file, columns, (rows) => upsert(client, path, rows)),
  };
}

/** The org must exist: an upsert into an unknown org would fail every row alike. */
async function probeOrg(client: ApiClient, org: number): Promise<void> {
  const known = await client.exchange({
    method: 'GET',
    path: `/admin/v1/orgs/${org}`,
    passes: [404],
    judge: (answer) => ({ done: !(answer.status === 429 || answer.status >= 500), value: answer.status !== 404 }),
    noAnswer: () => true,
  });
  if (!known) throw new CannotRun(`${client.baseUrl.origin} has no org ${org} (--org)`);
}

interface Pending {
  cells: string[];
  customer: Record<string, unknown>;
}

async function* importBatches(
  file: string,
  columns: Columns<ImportColumn>,
  upsert: (rows: Pending[]) => Promise<ResultRow[]>,
): AsyncGenerator<Batch> {
  const input = await openCsv(file);
  try {
    let batch: Array<ResultRow | Pending> = [];
    const take = (): Batch => {
      const taken = batch;
      batch = [];
      return () => settle(taken, upsert);
    };
    for (let next = await input.rows.next(); !next.done; next = await input.rows.next()) {
      const { cells, malformed } = rowCells(next.value.cells, columns.header.length);
      batch.push(malformed === undefined ? { cells, customer: customerOf(columns, cells) } : refused(cells, malformed));
      if (batch.length >= ROWS_PER_REQUEST) yield take();
    }
    if (batch.length > 0) yield take();
  } finally {
    input.close();
  }
}

async function settle(batch: Array<ResultRow | Pending>, upsert: (rows: Pending[]) => Promise<ResultRow[]>) {
  const pending = batch.filter((row): row is Pending => 'customer' in row);
  const results = new Map(pending.map((row, i) => [row, i]));
  const answered = pending.length > 0 ? await upsert(pending) : [];
  return batch.map((row) => ('customer' in row ? answered[results.get(row)!]! : row));
}

/**
 * One entry of the admin body. Cells go as written, with two readings: an `id` of digits is a
 * number, and `loyaltyPrograms` is split at `;` (each of digits a number). Anything else is
 * left for the API to refuse with its own message.
 */
function customerOf(columns: Columns<ImportColumn>, cells: string[]): Record<string, unknown> {
  const customer: Record<string, unknown> = {};
  const number = (text: string) => (/^\d+$/.test(text) ? Number(text) : text);
  for (const name of ['mobile', 'email', 'externalId'] as const) {
    const value = cellOf(columns, cells, name);
    if (value !== undefined) customer[name] = value;
  }
  const id = cellOf(columns, cells, 'id');
  if (id !== undefined) customer.id = number(id.trim());
  const programs = cellOf(columns, cells, 'loyaltyPrograms');
  if (programs !== undefined) {
    customer.loyaltyPrograms = programs
      .split(';')
      .map((part) => part.trim())
      .filter((part) => part !== '')
      .map(number);
  }
  return customer;
}

function refused(cells: string[], error: string, code = REFUSED): ResultRow {
  return { cells: [...cells, '', error], tally: { succeeded: false, code } };
}

type Upserted = { kind: 'done'; rows: ResultRow[] } | { kind: 'named'; problems: Map<number, string[]> };

/** Upserts the rows, sending again without the ones the API names, until the rest is taken or refused as a whole. */
async function upsert(client: ApiClient, path: string, rows: Pending[]): Promise<ResultRow[]> {
  const results = new Map<Pending, ResultRow>();
  let left = rows;
  while (left.length > 0) {
    const sent = left;
    const outcome = await client.exchange<Upserted>({
      path,
      body: JSON.stringify({ customers: sent.map((row) => row.customer) }),
      judge: (answer) => judgeUpsert(answer, sent),
      noAnswer: (reason) => ({
        kind: 'done',
        rows: sent.map((row) => refused(row.cells, `no answer: ${reason}`, NO_ANSWER)),
      }),
    });
    if (outcome.kind === 'done') {
      sent.forEach((row, i) => results.set(row, outcome.rows[i]!));
      break;
    }
    sent.forEach((row, i) => {
      const problems = outcome.problems.get(i);
      if (problems) results.set(row, refused(row.cells, problems.join('; ')));
    });
    left = sent.filter((_, i) => !outcome.problems.has(i));
  }
  return rows.map((row) => results.get(row)!);
}

function judgeUpsert(answer: Answer, sent: Pending[]): Verdict<Upserted> {
  const { status, json } = answer;
  const customers = (json as { customers?: Array<{ id?: unknown }> } | undefined)?.customers;
  if (status === 200 && Array.isArray(customers) && customers.length === sent.length) {
    const rows = sent.map((row, i) => ({
      cells: [...row.cells, String(customers[i]?.id ?? ''), ''],
      tally: { succeeded: true, code: '200' },
    }));
    return { done: true, value: { kind: 'done', rows } };
  }
  const messages = ((json as { errors?: Array<{ message?: unknown }> } | undefined)?.errors ?? [])
    .map((error) => error.message)
    .filter((message): message is string => typeof message === 'string');
  if (status === 400) {
    const problems = new Map<number, string[]>();
    for (const message of messages) {
      const at = /^customers\[(\d+)\]/.exec(message);
      const index = at ? Number(at[1]) : -1;
      const said = message.replace(/^customers\[\d+\](\.|: )?/, '');
      if (index >= 0 && index < sent.length) problems.set(index, [...(problems.get(index) ?? []), said]);
    }
    if (problems.size > 0) return { done: true, value: { kind: 'named', problems } };
  }
  const message = messages.join('; ') || messageOf(json) || `HTTP ${status}`;
  const retry = status === 409 || status === 429 || status >= 500;
  return {
    done: !retry,
    value: { kind: 'done', rows: sent.map((row) => refused(row.cells, message, String(status))) },
  };
}
