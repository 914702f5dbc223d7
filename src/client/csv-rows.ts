import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { parse, type CsvError, type Info } from 'csv-parse';
import { CannotRun } from './cannot-run.js';

/** One data row of a CSV file: its number (1 = the first row after the header), its line, its cells. */
export interface CsvRow {
  number: number;
  line: number;
  cells: string[];
}

export interface CsvFile {
  header: string[];
  /** The data rows, read as they are asked for: the file is never held in memory. */
  rows: AsyncIterator<CsvRow>;
  close(): void;
}

export interface CsvOptions {
  /**
   * For a file this command wrote and may have been stopped in the middle of (a result file): a
   * last line without its newline, or cut inside a quoted cell, is dropped instead of refused.
   */
  dropCutEnd?: boolean;
}

/**
 * Opens a CSV file (RFC 4180, UTF-8, a BOM tolerated) and reads its header (`[]` for an empty
 * file). Rows may have any number of cells: the caller decides what a wrong count means. Empty
 * lines are skipped.
 */
export async function openCsv(path: string, options: CsvOptions = {}): Promise<CsvFile> {
  const end = options.dropCutEnd ? await lastNewline(path) : undefined;
  if (end === -1)
    return { header: [], rows: { next: async () => ({ done: true, value: undefined }) }, close: () => {} };
  const source = createReadStream(path, end === undefined ? {} : { end });
  const parser = parse({ bom: true, relax_column_count: true, relax_quotes: true, skip_empty_lines: true, info: true });
  source.once('error', (error) => parser.destroy(error));
  source.pipe(parser);
  const records = parser[Symbol.asyncIterator]() as AsyncIterator<{ record: string[]; info: Info }>;
  let number = 0;
  const next = async (): Promise<IteratorResult<{ record: string[]; info: Info }>> => {
    try {
      return await records.next();
    } catch (error) {
      if (options.dropCutEnd && (error as CsvError).code === 'CSV_QUOTE_NOT_CLOSED') {
        return { done: true, value: undefined };
      }
      throw readFailure(path, error);
    }
  };
  const first = await next();
  if (first.done) {
    source.destroy();
    return { header: [], rows: { next: async () => ({ done: true, value: undefined }) }, close: () => {} };
  }
  const rows: AsyncIterator<CsvRow> = {
    next: async () => {
      const record = await next();
      if (record.done) return { done: true, value: undefined };
      number += 1;
      return { done: false, value: { number, line: record.value.info.lines, cells: record.value.record } };
    },
  };
  return { header: first.value.record, rows, close: () => source.destroy() };
}

function readFailure(path: string, error: unknown): CannotRun {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new CannotRun(`${path}: no such file`);
  if (code === 'EACCES') return new CannotRun(`${path}: permission denied`);
  if (code === 'EISDIR') return new CannotRun(`${path} is a directory, not a CSV file`);
  const message = error instanceof Error ? error.message : String(error);
  return new CannotRun(`${path} cannot be read as CSV: ${message}`);
}

/** Fails with CannotRun unless `path` is a readable file. */
export async function assertReadable(path: string): Promise<void> {
  try {
    const handle = await open(path, 'r');
    try {
      if (!(await handle.stat()).isFile()) throw Object.assign(new Error('not a file'), { code: 'EISDIR' });
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw readFailure(path, error);
  }
}

/** The offset of the file's last newline (-1: none), to read only whole lines. */
async function lastNewline(path: string): Promise<number> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const chunk = Buffer.alloc(64 * 1024);
    for (let endAt = size; endAt > 0; endAt -= chunk.length) {
      const start = Math.max(0, endAt - chunk.length);
      const { bytesRead } = await handle.read(chunk, 0, endAt - start, start);
      const at = chunk.subarray(0, bytesRead).lastIndexOf(0x0a);
      if (at >= 0) return start + at;
    }
    return -1;
  } finally {
    await handle.close();
  }
}

/**
 * Counts the data rows of a CSV file in one pass over its bytes, without parsing cells: line
 * ends outside quotes, empty lines left out, the header too. Cheap (about a second for 1 GB), so
 * a progress bar can show a total.
 */
export async function countRows(path: string): Promise<number> {
  let records = 0;
  let quoted = false;
  let lineHasText = false;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]!;
      if (byte === 0x22) quoted = !quoted;
      if (byte === 0x0a && !quoted) {
        if (lineHasText) records += 1;
        lineHasText = false;
      } else if (byte !== 0x0d) {
        lineHasText = true;
      }
    }
  }
  if (lineHasText) records += 1;
  return Math.max(0, records - 1);
}
