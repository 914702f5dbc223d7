import { ApiClient } from './api-client.js';
import { runBulk, type BulkRun } from './bulk-command.js';
import { CannotRun } from './cannot-run.js';
import { matchColumns, type Columns } from './columns.js';
import { assertReadable, openCsv } from './csv-rows.js';
import { tillOrOAuthCredentials } from './credentials.js';
import {
  IDENTIFIER_COLUMNS,
  judgeLinkAnswer,
  keptRow,
  LINK_COLUMNS,
  linkBatches,
  NO_ANSWER,
  resultRow,
  type LinkColumn,
  type LinkSlot,
} from './link-batches.js';
import { isSettled, PreviousResult } from './resume.js';
import { rowCells, type BulkOptions } from './bulk-options.js';

const LINK_PATH = '/v2/partnerProgram/linkCustomer';
export const LINK_RESULT_COLUMNS = ['customerCode', 'code', 'message'];

export interface LinkOptions extends BulkOptions {
  resume: boolean;
}

/**
 * `partner-programs link FILE.csv` (SPEC §2a): every row of the file linked through the v2 API,
 * 50 customers a request, and RESULT.csv with every row's answer, in input order.
 */
export function link(options: LinkOptions): Promise<0 | 1 | 2> {
  return runBulk(() => prepareLink(options));
}

async function prepareLink(options: LinkOptions): Promise<BulkRun> {
  const { file, out, resume } = options;
  const credentials = tillOrOAuthCredentials(options.env);
  await assertReadable(file);
  const columns = await linkColumns(file);
  // A resumed run checks the whole previous result against the input before it sends anything.
  if (resume) await readToTheEnd(slotsOf(file, out, columns.header.length));
  const api = new ApiClient(options.url, options.concurrency, credentials);
  return {
    file,
    out,
    resultHeader: [...columns.header, ...LINK_RESULT_COLUMNS],
    mode: resume ? 'replacing' : 'in place',
    client: api,
    concurrency: options.concurrency,
    probe: () => probeLink(api),
    batches: () =>
      linkBatches(slotsOf(file, resume ? out : undefined, columns.header.length), columns, (body, key, items) =>
        api.exchange({
          path: LINK_PATH,
          body,
          headers: { 'idempotency-key': key },
          judge: (answer) => judgeLinkAnswer(answer, items),
          noAnswer: (reason) =>
            items.map((item) => item.slots.map((slot) => resultRow(slot.cells, '', NO_ANSWER, `no answer: ${reason}`))),
        }),
      ),
  };
}

async function linkColumns(file: string): Promise<Columns<LinkColumn>> {
  const input = await openCsv(file);
  input.close();
  if (input.header.length === 0) throw new CannotRun(`${file} is empty: it needs a header row`);
  const columns = matchColumns(input.header, LINK_COLUMNS, file);
  if (!columns.at.has('partnerProgramName'))
    throw new CannotRun(`${file}: the header has no partnerProgramName column`);
  if (!IDENTIFIER_COLUMNS.some((name) => columns.at.has(name))) {
    throw new CannotRun(`${file}: the header has no identifier column (${IDENTIFIER_COLUMNS.join(', ')})`);
  }
  return columns;
}

/**
 * An empty batch: answered 2002 after the credentials are checked and before anything is
 * written, so it proves the URL and the credentials without side effects.
 */
async function probeLink(client: ApiClient): Promise<void> {
  await client.exchange({
    path: LINK_PATH,
    body: JSON.stringify({ linkCustomers: [] }),
    judge: (answer) => ({ done: !(answer.status === 429 || answer.status >= 500), value: undefined }),
    noAnswer: () => undefined,
  });
}

/**
 * Every input row as a slot: malformed (settled at once), settled by the previous run, or to
 * be sent. Both files are read as the slots are asked for, never ahead.
 */
async function* slotsOf(file: string, previousPath: string | undefined, width: number): AsyncGenerator<LinkSlot> {
  const input = await openCsv(file);
  try {
    const previous = previousPath
      ? await PreviousResult.open(previousPath, input.header, LINK_RESULT_COLUMNS)
      : undefined;
    let rows = 0;
    for (let next = await input.rows.next(); !next.done; next = await input.rows.next()) {
      const row = next.value;
      rows = row.number;
      const { cells, malformed } = rowCells(row.cells, width);
      const before = await previous?.next(row, cells);
      const slot = { number: row.number, cells, malformed: malformed !== undefined };
      if (before !== undefined && isSettled(before.at(-2) ?? '')) yield { ...slot, result: keptRow(before) };
      else if (malformed !== undefined) yield { ...slot, result: resultRow(cells, '', '400', malformed) };
      else yield slot;
    }
    await previous?.finish(rows);
  } finally {
    input.close();
  }
}

async function readToTheEnd(slots: AsyncIterator<LinkSlot>): Promise<void> {
  while (!(await slots.next()).done);
}
