import type { CpuUse } from './machine.js';
import { BATCH_SIZE } from './settings.js';

/** One side (service or raw SQL) at one concurrency level, as reported and saved. */
export interface Measurement {
  connections: number;
  /** Batches in the measured run (the warm-up is not counted here, only in the verification). */
  batches: number;
  seconds: number;
  batchesPerSecond: number;
  linksPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Batches that failed: non-200 responses, or statements that did not write BATCH_SIZE rows. */
  failed: number;
  /** Connection errors and timeouts (HTTP only). */
  errors: number;
  /** The run ended before its duration because this level's share of customers was used up. */
  cappedByCustomers: boolean;
  /** Membership rows the level added (warm-up included) against BATCH_SIZE × successful batches. */
  memberships: { added: number; expected: number };
  cpu: CpuUse;
  firstFailure?: string;
}

export function rates(batches: number, seconds: number): Pick<Measurement, 'batchesPerSecond' | 'linksPerSecond'> {
  const batchesPerSecond = seconds > 0 ? batches / seconds : 0;
  return { batchesPerSecond, linksPerSecond: batchesPerSecond * BATCH_SIZE };
}

export function verified(measurement: Measurement): boolean {
  return (
    measurement.memberships.added === measurement.memberships.expected &&
    measurement.failed === 0 &&
    measurement.errors === 0
  );
}

/** Nearest-rank percentile of unsorted samples. */
export function percentile(samples: readonly number[], fraction: number): number {
  if (samples.length === 0) return 0;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(fraction * sorted.length) - 1)]!;
}
