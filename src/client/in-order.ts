import type { RowTally } from './progress.js';

/** A result row: the cells written to RESULT.csv and what the summary counts. */
export interface ResultRow {
  cells: string[];
  tally: RowTally;
}

/** A batch of consecutive input rows; settling it (sending it, if it has anything to send) gives their result rows. */
export type Batch = () => Promise<ResultRow[]>;

/**
 * Settles batches concurrently and hands their rows to `sink` in input order. At most `window`
 * batches are outstanding (in flight, or done and waiting for an earlier one), and the next
 * batch is not even read before one of them is written: memory stays bounded whatever the file
 * size, and a slow batch holds back at most `window` others. A batch that fails (CannotRun)
 * stops the run; the rows written so far stay written.
 */
export async function settleInOrder(
  batches: AsyncIterable<Batch>,
  window: number,
  sink: (rows: ResultRow[]) => Promise<void>,
): Promise<void> {
  const outstanding: Array<{ settled: Promise<ResultRow[]>; rows?: ResultRow[] }> = [];
  let failure: { error: unknown } | undefined;
  const writeDone = async () => {
    while (outstanding[0]?.rows) await sink(outstanding.shift()!.rows!);
  };
  const writeHead = async () => {
    await outstanding[0]!.settled;
    await writeDone();
  };
  for await (const batch of batches) {
    if (failure) throw failure.error;
    const entry: { settled: Promise<ResultRow[]>; rows?: ResultRow[] } = { settled: batch() };
    entry.settled.then(
      (rows) => (entry.rows = rows),
      (error: unknown) => (failure ??= { error }),
    );
    outstanding.push(entry);
    await writeDone();
    while (outstanding.length >= window) await writeHead();
  }
  while (outstanding.length > 0) await writeHead();
}
