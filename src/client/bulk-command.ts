import { ApiClient } from './api-client.js';
import { CannotRun } from './cannot-run.js';
import { countRows } from './csv-rows.js';
import { settleInOrder, type Batch } from './in-order.js';
import { Progress } from './progress.js';
import { ResultWriter } from './result-file.js';

/** What both bulk commands share: a file of rows in, RESULT.csv out, batches over one client. */
export interface BulkRun {
  file: string;
  out: string;
  resultHeader: string[];
  /** `replacing` when the run reads the result it rewrites (--resume). */
  mode: 'in place' | 'replacing';
  client: ApiClient;
  concurrency: number;
  /** One cheap request that fails fast on a wrong URL, wrong credentials or a silent service. */
  probe(): Promise<void>;
  batches(): AsyncIterable<Batch>;
}

/** Exit status of SPEC §2a: 0 every row succeeded, 1 some failed, 2 the command could not run. */
export type ExitStatus = 0 | 1 | 2;

/**
 * Runs a bulk command to its end: the probe, then every batch with `concurrency` requests in
 * flight and the rows written in input order, then one summary line on stderr. A CannotRun,
 * whenever it comes, is reported in one line and answers 2.
 */
export async function runBulk(prepare: () => Promise<BulkRun>, stderr: NodeJS.WriteStream = process.stderr) {
  const startedAt = performance.now();
  let run: BulkRun | undefined;
  let writer: ResultWriter | undefined;
  try {
    run = await prepare();
    await run.probe();
    writer = new ResultWriter(run.out, run.resultHeader, run.mode);
    const progress = new Progress(stderr.isTTY ? await countRows(run.file) : undefined, stderr, startedAt);
    // Two batches per request in flight keep every connection busy while the oldest is written.
    const window = run.concurrency * 2 + 1;
    const sink = writer;
    await settleInOrder(run.batches(), window, async (rows) => {
      await sink.write(rows.map((row) => row.cells));
      progress.add(rows.map((row) => row.tally));
    });
    await writer.commit();
    const gone = run.client.gone;
    const summary = progress.finish();
    if (gone) stderr.write(`Stopped sending: ${gone}; the rows not sent say so. Run again with --resume.\n`);
    stderr.write(`${summary}\n`);
    return (progress.failed === 0 ? 0 : 1) satisfies ExitStatus;
  } catch (error) {
    await writer?.abandon();
    if (!(error instanceof CannotRun)) throw error;
    stderr.write(`Cannot run: ${error.message}\n`);
    return 2 satisfies ExitStatus;
  } finally {
    await run?.client.close();
  }
}
