import type { LinkSlots } from './batches.js';
import { percentile } from './measurement.js';
import { runPacedLinks, type PacedBatch } from './paced-load.js';

/** An untimed run of the steady load first: a fresh service and database are slower in their first seconds. */
export const WARM_UP_SECONDS = 2;
/** runPacedLinks runs this long at a time while a drain goes on: a short window overshoots the drain less. */
export const LOAD_WINDOW_SECONDS = 5;

/** Latency of the link batches of one period of the steady load. */
export interface LinkLatency {
  batches: number;
  /** Answered HTTP 200 (every entry linked). */
  ok: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** How late the timer sent a batch at worst: the load generator kept up if small. */
  worstSendLagMs: number;
  firstFailure: string | undefined;
}

/** The steady load for as long as `running()` says, in windows; every batch sent, in order. */
export async function linksWhile(options: {
  address: string;
  batchesPerSecond: number;
  slots: LinkSlots<string>;
  running: () => boolean;
}): Promise<{ batches: PacedBatch[]; worstSendLagMs: number }> {
  const { address, batchesPerSecond, slots, running } = options;
  const perWindow = Math.round(batchesPerSecond * LOAD_WINDOW_SECONDS);
  const batches: PacedBatch[] = [];
  let worstSendLagMs = 0;
  // The slots are sized for the drain's timeout; past them the load stops rather than link anyone twice.
  while (running() && slots.remaining >= perWindow) {
    const run = await runPacedLinks({ address, batchesPerSecond, seconds: LOAD_WINDOW_SECONDS, slots });
    batches.push(...run.batches);
    worstSendLagMs = Math.max(worstSendLagMs, run.worstLagMs);
  }
  return { batches, worstSendLagMs };
}

/** p50, p99 and max of the batches' response times, with how many failed and the first failure. */
export function latencyOf(batches: readonly PacedBatch[], worstSendLagMs: number): LinkLatency {
  const times = batches.map((b) => b.respondedAtMs - b.sentAtMs);
  const failed = batches.find((b) => b.status !== 200);
  return {
    batches: batches.length,
    ok: batches.filter((b) => b.status === 200).length,
    p50Ms: percentile(times, 0.5),
    p99Ms: percentile(times, 0.99),
    maxMs: times.length > 0 ? Math.max(...times) : 0,
    worstSendLagMs,
    firstFailure: failed && (failed.error ?? `HTTP ${failed.status}`),
  };
}
