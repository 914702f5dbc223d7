import type { Machine } from './machine.js';
import { percentile, type Measurement } from './measurement.js';
import { BATCH_SIZE } from './settings.js';
import type { HeapReading, Sample } from './soak-memory.js';
import type { SoakSettings } from './soak-settings.js';

/**
 * The issue's goals: at most 250 MB resident at peak load and after the soak, and no growth from
 * the first mark to the last. RSS is noisy without any leak (V8 grows its heap in steps, the young
 * generation's semi-spaces double up to 16 MB each, malloc keeps freed pages), so growth is
 * allowed up to 5 % of the first mark or 10 MB, whichever is larger.
 */
export const SOAK_GOALS = { rssMb: 250, growthPercent: 5, growthMb: 10 } as const;
/** Each mark is the median of the samples in its last 10 s (the soak is 30 s at least: thirds of 10 s or more). */
export const MARK_WINDOW_SECONDS = 10;

export type RssSample = Sample<{ rssMb: number }>;

export interface RssSummary {
  samples: number;
  minMb: number;
  medianMb: number;
  maxMb: number;
}

/**
 * What one phase's load did, and its checks: the link bench's measurement of a level (the peak's
 * warm-up counted in `failed`, `errors` and `memberships` only), without its per-level fields.
 */
export type PhaseLoad = Omit<Measurement, 'connections' | 'cappedByCustomers' | 'firstFailure'> & {
  firstFailure: string | undefined;
};

export interface PeakPhase extends PhaseLoad {
  connections: number;
  warmUpBatches: number;
  /** VmRSS every 250 ms, warm-up included. */
  rss: RssSummary;
  /** VmHWM at the phase's end. */
  hwmMb: number | undefined;
}

export interface SoakMark {
  label: string;
  /** Seconds into the soak: the window's end. */
  atSeconds: number;
  /** Median VmRSS of the window's samples. */
  rssMb: number | undefined;
  samples: number;
  /** The /metrics scrape nearest the mark. */
  heap: Sample<HeapReading> | undefined;
}

export interface SoakGrowth {
  fromMb: number;
  toMb: number;
  mb: number;
  percent: number;
  allowedMb: number;
}

export interface SoakPhase extends PhaseLoad {
  targetBatchesPerSecond: number;
  /** How late the timer sent batches behind their schedule at worst: small if the load generator kept up. */
  worstLagMs: number;
  maxMs: number;
  /** VmRSS every second. */
  rss: RssSummary;
  hwmMb: number | undefined;
  marks: SoakMark[];
  growth: SoakGrowth | undefined;
  /** Least-squares slope of VmRSS from the first mark to the end, for information. */
  trendMbPerMinute: number | undefined;
}

interface Goal {
  goal: number;
  measured: number | undefined;
  met: boolean;
}

export interface SoakReport {
  finishedAt: string;
  machine: Machine;
  /** Busy share of all cores in the second before the load: load that is not the bench's. */
  hostBusyBeforePercent: number;
  settings: Omit<SoakSettings, 'serverUrl'> & {
    batchSize: number;
    programs: string[];
    rssIntervalMs: { peak: number; soak: number };
    scrapeIntervalMs: number;
    markWindowSeconds: number;
  };
  /** VmHWM before any load: what start-up (migrations, configuration) took. */
  startupHwmMb: number | undefined;
  peak: PeakPhase;
  soak: SoakPhase;
  goals: { peakRssMb: Goal; soakRssMb: Goal; growthMb: Goal };
  verified: boolean;
  samples: {
    peakRss: RssSample[];
    soakRss: RssSample[];
    peakHeap: Array<Sample<HeapReading>>;
    soakHeap: Array<Sample<HeapReading>>;
  };
}

export function summarizeRss(samples: readonly RssSample[]): RssSummary {
  const values = samples.map((s) => s.rssMb);
  return {
    samples: values.length,
    minMb: values.length ? Math.min(...values) : 0,
    medianMb: percentile(values, 0.5),
    maxMb: values.length ? Math.max(...values) : 0,
  };
}

/**
 * Marks at each third of the soak: minutes 1, 2 and 3 of the default 180 s, so a shorter soak
 * still compares its start, middle and end. A median of the window rather than one sample, so
 * a GC caught mid-way does not decide the figure.
 */
export function soakMarks(
  samples: readonly RssSample[],
  heap: ReadonlyArray<Sample<HeapReading>>,
  soakSeconds: number,
): SoakMark[] {
  const third = soakSeconds / 3;
  return [1, 2, 3].map((index) => {
    const atSeconds = index * third;
    const window = samples
      .filter((s) => s.atSeconds > atSeconds - MARK_WINDOW_SECONDS && s.atSeconds <= atSeconds)
      .map((s) => s.rssMb);
    return {
      label: third === 60 ? `minute ${index}` : `${index}/3 of the soak`,
      atSeconds,
      rssMb: window.length ? percentile(window, 0.5) : undefined,
      samples: window.length,
      heap: nearest(heap, atSeconds),
    };
  });
}

function nearest<T extends { atSeconds: number }>(samples: readonly T[], atSeconds: number): T | undefined {
  let best: T | undefined;
  for (const sample of samples)
    if (!best || Math.abs(sample.atSeconds - atSeconds) < Math.abs(best.atSeconds - atSeconds)) best = sample;
  return best;
}

/** First mark to last, against the allowance of SOAK_GOALS. */
export function soakGrowth(marks: readonly SoakMark[]): SoakGrowth | undefined {
  const from = marks[0]?.rssMb;
  const to = marks.at(-1)?.rssMb;
  if (from === undefined || to === undefined) return undefined;
  const allowedMb = Math.max((from * SOAK_GOALS.growthPercent) / 100, SOAK_GOALS.growthMb);
  return { fromMb: from, toMb: to, mb: to - from, percent: (100 * (to - from)) / from, allowedMb };
}

/** Slope of the samples from `fromSeconds` on: a steady leak shows here even when it is within the allowance. */
export function trendMbPerMinute(samples: readonly RssSample[], fromSeconds: number): number | undefined {
  const points = samples.filter((s) => s.atSeconds >= fromSeconds);
  if (points.length < 2) return undefined;
  const meanT = points.reduce((total, s) => total + s.atSeconds, 0) / points.length;
  const meanRss = points.reduce((total, s) => total + s.rssMb, 0) / points.length;
  let covariance = 0;
  let variance = 0;
  for (const s of points) {
    covariance += (s.atSeconds - meanT) * (s.rssMb - meanRss);
    variance += (s.atSeconds - meanT) ** 2;
  }
  return variance > 0 ? (covariance / variance) * 60 : undefined;
}

/**
 * The peak goal on VmHWM when known: the kernel's high-water mark misses no spike between two
 * samples (it also covers start-up, printed apart so that a start-up peak can be told).
 */
export function soakGoals(peak: PeakPhase, soak: SoakPhase): SoakReport['goals'] {
  const peakRss = peak.hwmMb ?? peak.rss.maxMb;
  const afterSoak = soak.marks.at(-1)?.rssMb;
  const growth = soak.growth;
  return {
    peakRssMb: { goal: SOAK_GOALS.rssMb, measured: peakRss, met: peakRss <= SOAK_GOALS.rssMb },
    soakRssMb: {
      goal: SOAK_GOALS.rssMb,
      measured: afterSoak,
      met: afterSoak !== undefined && afterSoak <= SOAK_GOALS.rssMb,
    },
    growthMb: {
      goal: growth?.allowedMb ?? SOAK_GOALS.growthMb,
      measured: growth?.mb,
      met: !!growth && growth.mb <= growth.allowedMb,
    },
  };
}

export function phaseVerified(phase: PhaseLoad): boolean {
  return phase.failed === 0 && phase.errors === 0 && phase.memberships.added === phase.memberships.expected;
}

const fixed = (digits: number) => (value: number | undefined) => (value === undefined ? '-' : value.toFixed(digits));
const whole = fixed(0);
const mb = (value: number | undefined) => (value === undefined ? '-' : `${value.toFixed(1)} MB`);
const met = (goal: Goal) => (goal.met ? 'met' : 'MISSED');
const check = (ok: boolean) => (ok ? 'ok' : 'FAILED');

export function formatSoakReport(report: SoakReport): string {
  return [
    ...header(report),
    '',
    ...phaseTable(report),
    '',
    ...markTable(report),
    '',
    ...goalLines(report),
    ...legend(report),
  ].join('\n');
}

function header({ machine, settings, hostBusyBeforePercent, startupHwmMb }: SoakReport): string[] {
  return [
    `Memory soak: service child (${settings.compiled ? 'compiled' : 'sources through tsx'}) with ROLE=${settings.role}, batches of ${BATCH_SIZE}, ` +
      `${settings.customers.toLocaleString('en-US')} customers over ${settings.programs.join(', ')}`,
    `machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, node ${machine.node}`,
    `database: ${machine.postgres}`,
    `host busy before the run: ${hostBusyBeforePercent.toFixed(0)}% of all cores (other load skews the results)`,
    `service VmHWM after start-up, before any load: ${mb(startupHwmMb)}`,
  ];
}

function phaseTable({ settings, peak, soak }: SoakReport): string[] {
  const rows: Array<[string, PhaseLoad & { rss: RssSummary; hwmMb: number | undefined }, string]> = [
    ['peak', peak, `${peak.connections} conns, full speed`],
    ['soak', soak, `${fixed(1)(soak.targetBatchesPerSecond)} req/s, open loop`],
  ];
  const columns: Array<[string, number, (phase: (typeof rows)[number]) => string]> = [
    ['phase', 5, ([name]) => name],
    ['load', 22, ([, , load]) => load],
    ['seconds', 7, ([, p]) => fixed(1)(p.seconds)],
    ['links/s', 7, ([, p]) => whole(p.linksPerSecond)],
    ['p50 ms', 7, ([, p]) => fixed(1)(p.p50Ms)],
    ['p99 ms', 7, ([, p]) => fixed(1)(p.p99Ms)],
    ['non-200', 7, ([, p]) => String(p.failed)],
    ['errors', 6, ([, p]) => String(p.errors)],
    ['svc cpu', 7, ([, p]) => fixed(2)(p.cpu.serviceCores)],
    ['host %', 6, ([, p]) => whole(p.cpu.hostBusyPercent)],
    ['RSS min', 7, ([, p]) => whole(p.rss.minMb)],
    ['median', 6, ([, p]) => whole(p.rss.medianMb)],
    ['max', 5, ([, p]) => whole(p.rss.maxMb)],
    ['VmHWM', 5, ([, p]) => whole(p.hwmMb)],
  ];
  const row = (cells: string[]) =>
    cells.map((cell, i) => (i < 2 ? cell.padEnd(columns[i]![1]) : cell.padStart(columns[i]![1]))).join(' ');
  return [
    `Phases: peak ${settings.peakSeconds} s at full speed after ${peak.warmUpBatches} untimed batches, ` +
      `VmRSS every ${settings.rssIntervalMs.peak} ms; soak ${settings.soakSeconds} s at half the peak rate, ` +
      `every ${settings.rssIntervalMs.soak} ms (MB)`,
    row(columns.map(([title]) => title)),
    ...rows.map((r) => row(columns.map(([, , cell]) => cell(r)))),
    `soak: ${soak.batches} batches, timer lag <= ${whole(soak.worstLagMs)} ms, max latency ${whole(soak.maxMs)} ms`,
    ...[peak, soak]
      .filter((p) => p.firstFailure)
      .map((p) => `first failure (${p === peak ? 'peak' : 'soak'}): ${p.firstFailure}`),
  ];
}

function markTable({ settings, soak, samples }: SoakReport): string[] {
  const columns: Array<[string, number, (mark: SoakMark) => string]> = [
    ['mark', 16, (m) => m.label],
    ['at s', 5, (m) => whole(m.atSeconds)],
    ['VmRSS', 6, (m) => fixed(1)(m.rssMb)],
    ['samples', 7, (m) => String(m.samples)],
    ['heap used', 9, (m) => fixed(1)(m.heap?.heapUsedMb)],
    ['heap total', 10, (m) => fixed(1)(m.heap?.heapTotalMb)],
    ['external', 8, (m) => fixed(1)(m.heap?.externalMb)],
    ['scrape at s', 11, (m) => whole(m.heap?.atSeconds)],
  ];
  const row = (cells: string[]) =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(columns[i]![1]) : cell.padStart(columns[i]![1]))).join(' ');
  const { growth } = soak;
  const scale = settings.soakSeconds === 180 ? '' : ` (the soak is ${settings.soakSeconds} s: marks at its thirds)`;
  return [
    `Soak marks: median VmRSS of the samples in the last ${whole(settings.markWindowSeconds)} s before each mark${scale}; ` +
      `heap from the nearest GET /metrics scrape (every ${settings.scrapeIntervalMs / 1000} s) (MB)`,
    row(columns.map(([title]) => title)),
    ...soak.marks.map((m) => row(columns.map(([, , cell]) => cell(m)))),
    growth
      ? `growth ${soak.marks[0]!.label} -> ${soak.marks.at(-1)!.label}: ${growth.mb >= 0 ? '+' : ''}${growth.mb.toFixed(1)} MB ` +
        `(${growth.percent >= 0 ? '+' : ''}${growth.percent.toFixed(1)} %), allowed ${growth.allowedMb.toFixed(1)} MB`
      : 'growth: unknown (a mark had no samples)',
    `trend from ${soak.marks[0]!.label} to the end: ${fixed(2)(soak.trendMbPerMinute)} MB/min (least squares, for information)`,
    `heap scrapes: ${samples.peakHeap.length} in the peak phase, ${samples.soakHeap.length} in the soak` +
      (samples.soakHeap.length === 0 ? ' (GET /metrics did not answer: METRICS_TOKEN?)' : ''),
  ];
}

function goalLines({ goals, peak, soak, verified }: SoakReport): string[] {
  const memberships = [peak, soak].map((p) => p.memberships);
  const added = memberships.reduce((total, m) => total + m.added, 0);
  const expected = memberships.reduce((total, m) => total + m.expected, 0);
  return [
    `peak RSS: ${mb(goals.peakRssMb.measured)} (VmHWM at the end of the peak phase; max sample ${mb(peak.rss.maxMb)}) ` +
      `goal <= ${goals.peakRssMb.goal} MB: ${met(goals.peakRssMb)}`,
    `RSS after the soak: ${mb(goals.soakRssMb.measured)} (last mark) goal <= ${goals.soakRssMb.goal} MB: ${met(goals.soakRssMb)}`,
    `  for information: the most resident over the whole run (VmHWM at the end) ${mb(soak.hwmMb)}`,
    `no growth: ${goals.growthMb.measured === undefined ? '-' : `${goals.growthMb.measured.toFixed(1)} MB`} ` +
      `goal <= max(${SOAK_GOALS.growthPercent} % of the first mark, ${SOAK_GOALS.growthMb} MB) = ` +
      `${goals.growthMb.goal.toFixed(1)} MB: ${met(goals.growthMb)}`,
    `every response 200: ${check([peak, soak].every((p) => p.failed === 0 && p.errors === 0))}; ` +
      `memberships +${added}, expected ${expected} (${BATCH_SIZE} x 200 answers): ${check(added === expected)}`,
    `checks: ${verified ? 'ok' : 'FAILED (see above)'}`,
  ];
}

function legend({ settings }: SoakReport): string[] {
  return [
    '',
    'RSS: VmRSS of /proc/<pid>/status of the service child; VmHWM: its high-water mark since start-up.',
    `links/s = ${BATCH_SIZE} x req/s; soak latency: send to full answer; svc cpu: cores the service kept busy; ` +
      'host %: all cores, PostgreSQL and the load generator included.',
    `heap: nodejs_heap_size_used_bytes / _total_bytes and nodejs_external_memory_bytes of GET /metrics; ` +
      `ROLE=${settings.role}${settings.role === 'all' ? ': the scheduler and the delivery worker run in the same process' : ''}.`,
  ];
}
