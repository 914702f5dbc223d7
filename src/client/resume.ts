import { access } from 'node:fs/promises';
import { CannotRun } from './cannot-run.js';
import { openCsv, type CsvFile, type CsvRow } from './csv-rows.js';

/**
 * Codes that leave a row unsettled (SPEC §2a): 2010, 429, a 5xx, and 0, this command's code for
 * a batch that got no answer. An empty or unreadable code (a hand-edited file) is unsettled too:
 * sending a row again is safe, its batch's Idempotency-Key makes a repeat a replay.
 */
export function isSettled(code: string): boolean {
  if (!/^\d+$/.test(code)) return false;
  const value = Number(code);
  return !(value === 0 || value === 2010 || value === 429 || (value >= 500 && value <= 599));
}

/**
 * The previous RESULT.csv, read beside the input as `--resume` goes: `next(row)` answers the
 * previous result of input row `row`, or undefined once the previous run's rows are used up.
 * The result must be the result of this file: its header the input's plus `extra`, and row N
 * the input's row N repeated. A last row cut off by a crash is dropped, not refused.
 */
export class PreviousResult {
  private lookahead: CsvRow | undefined;
  private ended = false;

  private constructor(
    private readonly result: CsvFile,
    private readonly path: string,
    private readonly width: number,
    private readonly inputColumns: number,
  ) {}

  static async open(path: string, inputHeader: readonly string[], extra: readonly string[]) {
    try {
      await access(path);
    } catch {
      throw new CannotRun(`--resume: ${path} does not exist (name it with --out if it is elsewhere)`);
    }
    const result = await openCsv(path, { dropCutEnd: true });
    const expected = [...inputHeader, ...extra];
    const previous = new PreviousResult(result, path, expected.length, inputHeader.length);
    if (result.header.length === 0) {
      previous.ended = true;
      return previous;
    }
    if (result.header.join('\u0000') !== expected.join('\u0000')) {
      result.close();
      throw new CannotRun(
        `--resume: the header of ${path} is not the input's header followed by ${extra.join(', ')}; it is not a result of this file`,
      );
    }
    previous.lookahead = await previous.read();
    return previous;
  }

  async next(row: CsvRow, inputCells: readonly string[]): Promise<string[] | undefined> {
    const current = this.lookahead;
    if (current === undefined) return undefined;
    this.lookahead = await this.read();
    if (current.cells.length !== this.width) {
      // Only the very last line can be a half-written one.
      if (this.lookahead === undefined) return undefined;
      throw new CannotRun(
        `--resume: row ${current.number} of ${this.path} has ${current.cells.length} cells, not ${this.width}`,
      );
    }
    const repeated = current.cells.slice(0, this.inputColumns);
    if (repeated.some((cell, i) => cell !== inputCells[i])) {
      throw new CannotRun(
        `--resume: row ${current.number} of ${this.path} does not repeat row ${row.number} of the input (line ${row.line}); it is not a result of this file`,
      );
    }
    return current.cells;
  }

  /** After the last input row: nothing may be left. */
  async finish(inputRows: number): Promise<void> {
    const left = this.lookahead;
    this.result.close();
    if (left !== undefined) {
      throw new CannotRun(
        `--resume: ${this.path} has more rows than the input's ${inputRows}; it is not a result of this file`,
      );
    }
  }

  private async read(): Promise<CsvRow | undefined> {
    if (this.ended) return undefined;
    const next = await this.result.rows.next();
    if (next.done) {
      this.ended = true;
      return undefined;
    }
    return next.value;
  }
}
