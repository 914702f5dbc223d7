import type { CpuUse, Machine } from './machine.js';
import { verified, type Measurement } from './measurement.js';
import type { SignatureCheck } from './webhook-receiver.js';
import type { WebhookBenchSettings } from './webhook-settings.js';
import { BATCH_SIZE } from './settings.js';

/** SPEC §9 and the issue's goals, as the report checks them. */
export const GOALS = { outboxCostPercent: 15, deliveriesPerSecond: 2_000, p99LatencyMs: 1_000 } as const;

/** A link throughput run, with what the outbox wrote during it. */
export interface LinkRun {
  label: string;
  measurement: Measurement | undefined;
  /** Rows the run added (warm-up included); with one `*` subscription, one delivery per event. */
  events: number;
  deliveries: number;
  expectedDeliveries: number;
  /** Cores the delivery worker kept busy over the run (warm-up included); undefined when it was not running. */
  workerCores: number | undefined;
  /** Deliveries still PENDING when the run ended: how far the worker fell behind. */
  pendingAtEnd: number;
}

export interface DrainResult {
  /** Deliveries PENDING when the worker started. */
  pending: number;
  /** The first this many received are timed (BENCH_WEBHOOK_BACKLOG, or all pending when fewer). */
  timed: number;
  /** Distinct webhook-ids the receiver had got when the timing ended, and requests in all (more: redeliveries). */
  distinct: number;
  requests: number;
  complete: boolean;
  /** Spawn to ready (LISTEN seen): the worker's start, not timed below. */
  workerStartSeconds: number;
  /** Ready to the `timed`-th distinct request received. */
  seconds: number;
  deliveriesPerSecond: number;
  /** Ready to `timed` deliveries recorded SUCCEEDED in the database. */
  recordedSeconds: number | undefined;
  recordedPerSecond: number | undefined;
  cpu: CpuUse;
}

export interface Percentiles {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface LatencyResult {
  targetEventsPerSecond: number;
  batches: number;
  okBatches: number;
  /** Linked customers per second actually achieved (from the first send to the last answer). */
  achievedEventsPerSecond: number;
  /** How late the timer sent a batch at worst (the load generator's own lag). */
  worstSendLagMs: number;
  link: Percentiles;
  expectedEvents: number;
  distinct: number;
  requests: number;
  /** Arrival minus the event's createdAt (the service's clock, real time here). */
  fromCreatedAt: Percentiles;
  /** Arrival minus the instant the bench had the link response (committed and answered). */
  fromResponse: Percentiles;
  /** Events whose batch the bench could not match (should be 0). */
  unmatched: number;
  cpu: CpuUse;
}

export interface WebhookReport {
  finishedAt: string;
  machine: Machine;
  hostBusyBeforePercent: number;
  settings: WebhookBenchSettings & { customers: number; batchSize: number; setup: string };
  throughput: {
    noSubscription: LinkRun;
    workerStopped: LinkRun;
    workerDelivering: LinkRun;
    noSubscriptionAgain: LinkRun;
    /** Mean links/s of the two runs without a subscription. */
    baselineLinksPerSecond: number | undefined;
    /** How far apart the two baseline runs are, in % of their mean: the noise floor of the ratios. */
    baselineSpreadPercent: number | undefined;
    /** links/s with the subscription over the baseline. */
    workerStoppedRatio: number | undefined;
    workerDeliveringRatio: number | undefined;
  };
  drain: DrainResult;
  latency: LatencyResult;
  signatures: SignatureCheck;
  goals: {
    outboxCostPercent: { goal: number; measured: number | undefined; met: boolean };
    deliveriesPerSecond: { goal: number; measured: number; met: boolean };
    p99LatencyMs: { goal: number; measured: number; met: boolean };
  };
  /** Every check of the run held (counts, signatures, nothing lost); goals are reported apart. */
  verified: boolean;
}

export function linkRunVerified(run: LinkRun): boolean {
  return (
    run.measurement !== undefined &&
    verified(run.measurement) &&
    run.deliveries === run.expectedDeliveries &&
    run.events === run.measurement.memberships.added
  );
}

const fixed = (digits: number) => (value: number | undefined) => (value === undefined ? '-' : value.toFixed(digits));
const whole = fixed(0);
const percent = (ratio: number | undefined) => (ratio === undefined ? '-' : `${((1 - ratio) * 100).toFixed(1)} %`);
const mark = (met: boolean) => (met ? 'met' : 'MISSED');

export function formatWebhookReport(report: WebhookReport): string {
  const { machine, settings, throughput, drain, latency, signatures, goals } = report;
  const header = [
    `Webhooks: ${settings.setup}; WEBHOOK_CONCURRENCY ${settings.webhookConcurrency}`,
    `machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, node ${machine.node}`,
    `database: ${machine.postgres}`,
    ...(machine.citus ? [`Citus: ${machine.citus}`] : []),
    `host busy before the run: ${report.hostBusyBeforePercent.toFixed(0)}% of all cores (other load skews the results)`,
    '',
    `1. Link throughput, batches of ${BATCH_SIZE}, ${settings.connections} connections, ~${settings.secondsPerRun} s per run`,
  ];
  const columns: Array<[string, number, (run: LinkRun) => string]> = [
    ['run', 34, (r) => r.label],
    ['links/s', 8, (r) => whole(r.measurement?.linksPerSecond)],
    ['p50 ms', 7, (r) => fixed(1)(r.measurement?.p50Ms)],
    ['p99 ms', 7, (r) => fixed(1)(r.measurement?.p99Ms)],
    ['api cpu', 7, (r) => fixed(2)(r.measurement?.cpu.serviceCores)],
    ['wrk cpu', 7, (r) => fixed(2)(r.workerCores)],
    ['host %', 6, (r) => whole(r.measurement?.cpu.hostBusyPercent)],
    ['deliveries+', 11, (r) => String(r.deliveries)],
    ['pending', 7, (r) => String(r.pendingAtEnd)],
    ['check', 8, (r) => (linkRunVerified(r) ? 'ok' : 'MISMATCH')],
  ];
  const row = (cells: string[]) =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(columns[i]![1]) : cell.padStart(columns[i]![1]))).join(' ');
  const runs = [
    throughput.noSubscription,
    throughput.workerStopped,
    throughput.workerDelivering,
    throughput.noSubscriptionAgain,
  ];
  const table = [row(columns.map(([title]) => title)), ...runs.map((r) => row(columns.map(([, , cell]) => cell(r))))];
  const failures = runs
    .filter((r) => r.measurement?.firstFailure)
    .map((r) => `   ${r.label}: first failure ${r.measurement!.firstFailure}`);
  const ratios = [
    `   baseline (mean of the two runs without a subscription): ${whole(throughput.baselineLinksPerSecond)} links/s, ` +
      `the two ${fixed(1)(throughput.baselineSpreadPercent)} % apart (the noise floor of the ratios)`,
    `   with the subscription, worker stopped (outbox write alone): ratio ${fixed(3)(throughput.workerStoppedRatio)}, ` +
      `cost ${percent(throughput.workerStoppedRatio)}`,
    `   with the subscription, worker delivering (same host):      ratio ${fixed(3)(throughput.workerDeliveringRatio)}, ` +
      `cost ${percent(throughput.workerDeliveringRatio)}  goal <= ${goals.outboxCostPercent.goal} %: ${mark(goals.outboxCostPercent.met)}`,
  ];
  const drainLines = [
    '',
    `2. Drain: ${drain.pending} deliveries pending, the first ${drain.timed} timed; one ROLE=worker child, ` +
      'a receiver answering 204',
    `   ${drain.timed} received in ${drain.seconds.toFixed(2)} s from the worker's LISTEN: ` +
      `${whole(drain.deliveriesPerSecond)} deliveries/s  goal >= ${goals.deliveriesPerSecond.goal}/s: ` +
      `${mark(goals.deliveriesPerSecond.met)}${drain.complete ? '' : `  INCOMPLETE (timed out at ${drain.distinct})`}`,
    `   ${drain.timed} recorded SUCCEEDED after ${fixed(2)(drain.recordedSeconds)} s: ${whole(drain.recordedPerSecond)}/s; ` +
      `worker ${fixed(2)(drain.cpu.serviceCores)} cores, receiver ${fixed(2)(drain.cpu.benchCores)}, host ` +
      `${whole(drain.cpu.hostBusyPercent)} %; worker start ${drain.workerStartSeconds.toFixed(1)} s (not timed)`,
  ];
  const latencyLines = [
    '',
    `3. Commit-to-delivery latency at ${latency.targetEventsPerSecond} events/s (${latency.batches} batches of ${BATCH_SIZE}, ` +
      `open loop; achieved ${whole(latency.achievedEventsPerSecond)}/s, timer lag <= ${whole(latency.worstSendLagMs)} ms)`,
    `   link response p50 ${fixed(1)(latency.link.p50Ms)} ms, p99 ${fixed(1)(latency.link.p99Ms)} ms; ` +
      `${latency.okBatches}/${latency.batches} batches HTTP 200`,
    `   delivered ${latency.distinct}/${latency.expectedEvents} events (${latency.requests} requests)` +
      `${latency.unmatched ? `, ${latency.unmatched} not matched to a batch` : ''}`,
    `   arrival - createdAt:      p50 ${fixed(1)(latency.fromCreatedAt.p50Ms)} ms, p99 ${fixed(1)(latency.fromCreatedAt.p99Ms)} ms, ` +
      `max ${fixed(1)(latency.fromCreatedAt.maxMs)} ms  goal p99 <= ${goals.p99LatencyMs.goal} ms: ${mark(goals.p99LatencyMs.met)}`,
    `   arrival - link response:  p50 ${fixed(1)(latency.fromResponse.p50Ms)} ms, p99 ${fixed(1)(latency.fromResponse.p99Ms)} ms, ` +
      `max ${fixed(1)(latency.fromResponse.maxMs)} ms`,
    `   worker ${fixed(2)(latency.cpu.serviceCores)} cores, host ${whole(latency.cpu.hostBusyPercent)} %`,
    '',
    `signatures: ${signatures.valid}/${signatures.checked} sampled requests verified with standardwebhooks` +
      (signatures.firstError ? ` (first error: ${signatures.firstError})` : ''),
    `checks: ${report.verified ? 'ok' : 'FAILED (see above)'}`,
  ];
  const legend = [
    '',
    'api cpu / wrk cpu: cores the ROLE=api / ROLE=worker child kept busy; host %: all cores, PostgreSQL and the',
    '  bench process (load generator and receiver) included. deliveries+: rows the run added, one per link with the',
    '  subscription (warm-up included); pending: deliveries still PENDING at the end of the run.',
    'cost = 1 - ratio. The runs without a subscription still write the events rows: the outbox always records;',
    '  a subscription adds the deliveries rows, the NOTIFY and (worker delivering) the delivery work on the same cores.',
  ];
  return [...header, ...table, ...failures, ...ratios, ...drainLines, ...latencyLines, ...legend].join('\n');
}
