import { LOAD_WINDOW_SECONDS, WARM_UP_SECONDS } from './drain-links.js';
import { BATCH_SIZE, positiveInteger, readSettings } from './settings.js';

/** The fresh customers' mobiles are mobileOf's (`91700` + 7 digits): room for this many. */
const MAX_FRESH_CUSTOMERS = 10_000_000;

/** The drain bench's settings (bench/README.md, "Scheduler drain"); each checked up front. */
export interface DrainSettings {
  /** Server-level URL, as the other benches take it (BENCH_DATABASE_URL). */
  serverUrl: string;
  /** Due relinks seeded, drained by each scenario. */
  relinks: number;
  /** Relinks written per seeding statement (with their customers, activities and events). */
  relinksPerChunk: number;
  /** Link batches per second of the API scenario's steady load. */
  linkBatchesPerSecond: number;
  /** Length of that load's run before the worker starts: the figures without a drain. */
  linkSeconds: number;
  /** Longest wait for a drain; a drain still going then is reported incomplete (a failed check). */
  timeoutSeconds: number;
  /**
   * Customers for the link load, each linked once: enough for the warm-up, the baseline and a
   * drain lasting up to the timeout, with one load window to spare.
   */
  freshCustomers: number;
}

export function readDrainSettings(env: NodeJS.ProcessEnv): DrainSettings {
  const linkBatchesPerSecond = positiveInteger('BENCH_DRAIN_LINK_RATE', env.BENCH_DRAIN_LINK_RATE ?? '20');
  const linkSeconds = positiveInteger('BENCH_DRAIN_LINK_SECONDS', env.BENCH_DRAIN_LINK_SECONDS ?? '10');
  const timeoutSeconds = positiveInteger('BENCH_DRAIN_TIMEOUT', env.BENCH_DRAIN_TIMEOUT ?? '300');
  const loadSeconds = WARM_UP_SECONDS + linkSeconds + timeoutSeconds + LOAD_WINDOW_SECONDS;
  const freshCustomers = linkBatchesPerSecond * BATCH_SIZE * loadSeconds;
  if (freshCustomers > MAX_FRESH_CUSTOMERS)
    throw new Error(
      `the link load would need ${freshCustomers} fresh customers, more than ${MAX_FRESH_CUSTOMERS}: ` +
        'lower BENCH_DRAIN_LINK_RATE, BENCH_DRAIN_LINK_SECONDS or BENCH_DRAIN_TIMEOUT',
    );
  return {
    serverUrl: readSettings(env).serverUrl,
    relinks: positiveInteger('BENCH_DRAIN_RELINKS', env.BENCH_DRAIN_RELINKS ?? '1000000'),
    relinksPerChunk: positiveInteger('BENCH_DRAIN_CHUNK', env.BENCH_DRAIN_CHUNK ?? '200000'),
    linkBatchesPerSecond,
    linkSeconds,
    timeoutSeconds,
    freshCustomers,
  };
}
