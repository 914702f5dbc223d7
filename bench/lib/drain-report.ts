import { mkdirSync, writeFileSync } from 'node:fs';
import type { LinkLatency } from './drain-links.js';
import type { SeedResult } from './drain-seed.js';
import type { DrainSettings } from './drain-settings.js';
import type { DrainCheck } from './drain-verify.js';
import type { CpuUse, Machine } from './machine.js';
import { BATCH_SIZE } from './settings.js';

/** 1,000,000 due relinks in at most 30 s with one worker: a rate any run can be held to. */
export const DRAIN_GOAL = { relinks: 1_000_000, seconds: 30 } as const;
const GOAL_RATE = DRAIN_GOAL.relinks / DRAIN_GOAL.seconds;

/** The API scenario's steady link load: before the worker starts, and while it drains. */
export interface LinksDuringDrain {
  batchesPerSecond: number;
  baseline: LinkLatency;
  /** The batches sent between the worker's /ready and the drain's end. */
  duringDrain: LinkLatency;
  /** Every batch of the scenario (warm-up, baseline, drain and its overshoot), all of which must be 200. */
  all: LinkLatency;
  /** Goldstar memberships in the database against BATCH_SIZE per batch. */
  memberships: { linked: number; expected: number };
}

export interface ScenarioResult {
  name: string;
  workers: number;
  /** Seconds to copy the seeded database for this scenario (not timed). */
  copySeconds: number;
  /** Spawn to /ready of the slowest worker: tsx, the pool and the migrations check, not timed. */
  workerStartSeconds: number;
  /** First /ready to the first poll that saw an activation committed. */
  firstActivationSeconds: number | undefined;
  /** First /ready to the first poll that found nothing due (to the timeout when incomplete). */
  drainSeconds: number;
  relinksPerSecond: number;
  complete: boolean;
  /** Relinks each worker committed, by its own counter. */
  split: number[];
  /** Over the drain: the workers' cores (summed), the bench's, the host's busy share. */
  cpu: CpuUse;
  check: DrainCheck;
  links: LinksDuringDrain | undefined;
  verified: boolean;
}

export interface DrainReport {
  finishedAt: string;
  machine: Machine;
  hostBusyBeforePercent: number;
  settings: Omit<DrainSettings, 'serverUrl'> & {
    /** The workers' scheduler settings, as the service reads them from the same environment. */
    scheduler: Record<string, unknown>;
    /** The seed writes only the events this retention keeps. */
    eventRetentionDays: number;
    linkBatchSize: number;
    setup: string;
  };
  seed: SeedResult;
  scenarios: ScenarioResult[];
  goals: {
    oneWorkerRate: { goal: number; measured: number | undefined; met: boolean };
    twoWorkersExact: { goal: string; met: boolean };
    linkP99DuringDrainMs: { goal: string; measured: number | undefined; baseline: number | undefined };
  };
  verified: boolean;
}

/** Every check of the scenario held: drained in time, each activation exactly once, every link counted. */
export function scenarioVerified(result: Omit<ScenarioResult, 'verified'>, relinks: number): boolean {
  const counted = result.split.reduce((a, b) => a + b, 0) === relinks;
  const links =
    result.links === undefined ||
    (result.links.all.ok === result.links.all.batches &&
      result.links.memberships.linked === result.links.memberships.expected);
  return result.complete && result.check.ok && counted && links;
}

export function drainGoals(scenarios: readonly ScenarioResult[]): DrainReport['goals'] {
  const one = scenarios.find((s) => s.workers === 1 && s.links === undefined);
  const two = scenarios.find((s) => s.workers === 2);
  const api = scenarios.find((s) => s.links !== undefined);
  return {
    oneWorkerRate: {
      goal: GOAL_RATE,
      measured: one?.relinksPerSecond,
      met: one !== undefined && one.complete && one.relinksPerSecond >= GOAL_RATE,
    },
    twoWorkersExact: { goal: 'none missed, none done twice', met: two !== undefined && two.verified },
    linkP99DuringDrainMs: {
      goal: 'reported',
      measured: api?.links?.duringDrain.p99Ms,
      baseline: api?.links?.baseline.p99Ms,
    },
  };
}

const fixed = (digits: number) => (value: number | undefined) => (value === undefined ? '-' : value.toFixed(digits));
const whole = (value: number | undefined) => (value === undefined ? '-' : Math.round(value).toLocaleString('en'));
const mark = (met: boolean) => (met ? 'met' : 'MISSED');

export function formatDrainReport(report: DrainReport): string {
  const { machine, settings, seed, scenarios, goals } = report;
  const header = [
    `Scheduler drain: ${whole(seed.relinks)} due relinks of SPP_1; ${settings.setup}`,
    `scheduler: ${Object.entries(settings.scheduler)
      .map(([key, value]) => `${key} ${String(value)}`)
      .join(', ')}`,
    `machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, node ${machine.node}`,
    `database: ${machine.postgres}`,
    `host busy before the run: ${report.hostBusyBeforePercent.toFixed(0)}% of all cores (other load skews the results)`,
    `seed: ${whole(seed.relinks)} relinks in ${seed.relinkSeconds.toFixed(1)} s (${whole(seed.relinksPerSecond)}/s), ` +
      `${whole(seed.events)} events, ${whole(seed.freshCustomers)} fresh customers in ${seed.freshSeconds.toFixed(1)} s, vacuum analyze ` +
      `${seed.vacuumSeconds.toFixed(1)} s, ${seed.databaseGiB.toFixed(2)} GiB`,
    '',
  ];
  const columns: Array<[string, number, (s: ScenarioResult) => string]> = [
    ['scenario', 20, (s) => s.name],
    ['start s', 7, (s) => fixed(1)(s.workerStartSeconds)],
    ['1st s', 5, (s) => fixed(2)(s.firstActivationSeconds)],
    ['drain s', 7, (s) => `${s.drainSeconds.toFixed(2)}${s.complete ? '' : '+'}`],
    ['relinks/s', 9, (s) => whole(s.relinksPerSecond)],
    ['wrk cpu', 7, (s) => fixed(2)(s.cpu.serviceCores)],
    ['host %', 6, (s) => fixed(0)(s.cpu.hostBusyPercent)],
    ['split', 17, (s) => s.split.map(whole).join(' / ')],
    ['check', 8, (s) => (s.verified ? 'ok' : 'FAILED')],
  ];
  const row = (cells: string[]) =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(columns[i]![1]) : cell.padStart(columns[i]![1]))).join(' ');
  const table = [row(columns.map(([title]) => title)), ...scenarios.map((s) => row(columns.map(([, , c]) => c(s))))];
  const failures = scenarios.filter((s) => !s.verified).map((s) => `   ${s.name}: ${describeFailure(s, seed.relinks)}`);
  const api = scenarios.find((s) => s.links !== undefined)?.links;
  const links = api ? linkLines(api) : [];
  const goalLines = [
    '',
    `goal, one worker: >= ${whole(GOAL_RATE)} relinks/s (${whole(DRAIN_GOAL.relinks)} in <= ${DRAIN_GOAL.seconds} s): ` +
      `${whole(goals.oneWorkerRate.measured)}/s ${mark(goals.oneWorkerRate.met)}` +
      (seed.relinks < DRAIN_GOAL.relinks ? ` (at ${whole(seed.relinks)}: only a full run answers it)` : ''),
    `goal, two workers: ${goals.twoWorkersExact.goal}: ${mark(goals.twoWorkersExact.met)}`,
    `checks: ${report.verified ? 'ok' : 'FAILED (see above)'}`,
  ];
  const legend = [
    '',
    'start s: spawn to /ready of the slowest worker (not timed); 1st s: /ready to the first activation seen;',
    '  drain s: the first /ready to the first poll (every 250 ms) that found no relink due ("+": timed out).',
    'wrk cpu: cores the workers kept busy over the drain (summed); host %: all cores, PostgreSQL and the API included.',
    'split: relinks each worker committed, by its scheduler_transitions_total{kind="relink_activated"}.',
  ];
  return [...header, ...table, ...failures, ...links, ...goalLines, ...legend].join('\n');
}

function linkLines(links: LinksDuringDrain): string[] {
  const line = (label: string, l: LinkLatency) =>
    `   ${label.padEnd(22)} p50 ${fixed(1)(l.p50Ms)} ms, p99 ${fixed(1)(l.p99Ms)} ms, max ${fixed(1)(l.maxMs)} ms ` +
    `(${l.ok}/${l.batches} batches HTTP 200, timer lag <= ${whole(l.worstSendLagMs)} ms)`;
  return [
    '',
    `links, ${links.batchesPerSecond} batches/s of ${BATCH_SIZE} to Goldstar (fresh customers), open loop:`,
    line('before the worker:', links.baseline),
    line('during the drain:', links.duringDrain),
  ];
}

function describeFailure(s: ScenarioResult, relinks: number): string {
  const c = s.check;
  const problems = [
    s.complete ? undefined : 'the drain did not finish in time',
    c.memberships === relinks ? undefined : `${c.memberships} seeded memberships found`,
    c.activated === relinks ? undefined : `${c.activated} activated`,
    c.stillDue ? `${c.stillDue} still due` : undefined,
    c.activityMissing ? `${c.activityMissing} without the activation activity` : undefined,
    c.activityDoubled ? `${c.activityDoubled} with it twice or more` : undefined,
    c.activityWrong ? `${c.activityWrong} with wrong activities` : undefined,
    c.eventMissing ? `${c.eventMissing} without the started event` : undefined,
    c.eventDoubled ? `${c.eventDoubled} with it twice or more` : undefined,
    c.eventWrong ? `${c.eventWrong} with wrong events` : undefined,
    c.events === c.expectedEvents ? undefined : `${c.events} events, ${c.expectedEvents} expected`,
    s.split.reduce((a, b) => a + b, 0) === relinks ? undefined : `the workers counted ${s.split.join(' + ')}`,
    s.links && s.links.all.ok !== s.links.all.batches
      ? `${s.links.all.batches - s.links.all.ok} link batches not 200 (first: ${s.links.all.firstFailure})`
      : undefined,
    s.links && s.links.memberships.linked !== s.links.memberships.expected
      ? `${s.links.memberships.linked} Goldstar memberships, ${s.links.memberships.expected} expected`
      : undefined,
  ];
  return problems.filter((p) => p !== undefined).join('; ');
}

export function writeDrainReport(report: DrainReport, path: URL): void {
  mkdirSync(new URL('.', path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
}
