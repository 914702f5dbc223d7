import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { Machine } from './machine.js';
import { operationRunVerified, type OperationRun } from './scale-load.js';
import { OPERATION_NAMES, type OperationName } from './scale-requests.js';
import type { Growth, TableSizes } from './scale-seed.js';
import type { ScaleSettings } from './scale-settings.js';
import { BATCH_SIZE } from './settings.js';

/** The goals the scale bench reports on. */
export const SCALE_GOALS = { linkCostRatio: 1.3, lookupP99Ms: 5, historyP99Ms: 5 } as const;

/** An operation at one level: measured, or skipped with the reason. */
export type OperationResult = OperationRun | { operation: OperationName; connections: number; skipped: string };

export interface SizeResult {
  /** Memberships asked for (BENCH_SCALE_SIZES). */
  target: number;
  growth: Growth;
  /** Rows when the measurements started (after the growth's vacuum analyze). */
  tables: TableSizes;
  operations: OperationResult[];
}

interface Goal {
  goal: number;
  measured: number | undefined;
  met: boolean;
}

export interface ScaleReport {
  finishedAt: string;
  machine: Machine;
  hostBusyBeforePercent: number;
  settings: Omit<ScaleSettings, 'serverUrl'> & { batchSize: number; setup: string };
  sizes: SizeResult[];
  goals: {
    /** Link cost (1 / req/s at the highest level) at the largest size over the smallest. */
    linkCostRatio: Goal & { connections: number };
    /** The same ratio from p50 at the lowest level: for information, not a goal. */
    linkP50Ratio: number | undefined;
    /** p99 at the largest size, lowest level (latency without queueing behind other requests). */
    lookupP99Ms: Goal & { connections: number };
    historyP99Ms: Goal & { connections: number };
  };
  /** Every response HTTP 200, every link counted (a skipped run is reported, not failed); goals are reported apart. */
  verified: boolean;
}

export const isMeasured = (result: OperationResult | undefined): result is OperationRun =>
  result !== undefined && !('skipped' in result);

function find(size: SizeResult | undefined, operation: OperationName, connections: number) {
  const result = size?.operations.find((r) => r.operation === operation && r.connections === connections);
  return isMeasured(result) ? result : undefined;
}

export function scaleGoals(sizes: SizeResult[], connectionLevels: number[]): ScaleReport['goals'] {
  const lowest = connectionLevels[0]!;
  const highest = connectionLevels[connectionLevels.length - 1]!;
  const smallest = sizes[0];
  const largest = sizes[sizes.length - 1];
  const ratio = (numerator: number | undefined, denominator: number | undefined) =>
    numerator !== undefined && denominator ? numerator / denominator : undefined;
  const linkCostRatio = ratio(
    find(smallest, 'link', highest)?.requestsPerSecond,
    find(largest, 'link', highest)?.requestsPerSecond,
  );
  const goal = (measured: number | undefined, limit: number, connections: number) => ({
    goal: limit,
    measured,
    met: measured !== undefined && measured <= limit,
    connections,
  });
  return {
    linkCostRatio: goal(linkCostRatio, SCALE_GOALS.linkCostRatio, highest),
    linkP50Ratio: ratio(find(largest, 'link', lowest)?.p50Ms, find(smallest, 'link', lowest)?.p50Ms),
    lookupP99Ms: goal(find(largest, 'lookup', lowest)?.p99Ms, SCALE_GOALS.lookupP99Ms, lowest),
    historyP99Ms: goal(find(largest, 'history', lowest)?.p99Ms, SCALE_GOALS.historyP99Ms, lowest),
  };
}

export function sizesVerified(sizes: SizeResult[]): boolean {
  return sizes.every((size) => size.operations.every((r) => !isMeasured(r) || operationRunVerified(r)));
}

const fixed = (digits: number) => (value: number | undefined) => (value === undefined ? '-' : value.toFixed(digits));
const whole = (value: number) => Math.round(value).toLocaleString('en');
const mark = (met: boolean) => (met ? 'met' : 'MISSED');

export function formatScaleReport(report: ScaleReport): string {
  const { machine, settings, goals } = report;
  const header = [
    `Scale: ${settings.setup}; ${settings.connectionLevels.join(' and ')} connections, ` +
      `~${settings.secondsPerOperation} s per operation and level, batches of ${BATCH_SIZE}`,
    `machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, node ${machine.node}`,
    `database: ${machine.postgres}`,
    `host busy before the run: ${report.hostBusyBeforePercent.toFixed(0)}% of all cores (other load skews the results)`,
    '',
  ];
  const growth = report.sizes.map(({ target, growth: g, tables }) => {
    const rows = (name: string) => whole(tables.rows[name] ?? 0);
    return (
      `size ${whole(target)}: grown ${whole(g.membershipsBefore)} -> ${whole(g.membershipsAfter)} memberships ` +
      `(${whole(g.seededCustomers)} customers) in ${g.seedSeconds.toFixed(1)} s` +
      `${g.membershipsPerSecond ? ` (${whole(g.membershipsPerSecond)} memberships/s)` : ''}, ` +
      `${whole(g.freshCustomersAdded)} fresh customers in ${g.freshSeconds.toFixed(1)} s, ` +
      `vacuum analyze ${g.vacuumSeconds.toFixed(1)} s; rows: customers ${rows('customers')}, ` +
      `activities ${rows('membership_activities')}, events ${rows('events')}; database ${tables.databaseGiB.toFixed(2)} GiB`
    );
  });
  const columns: Array<[string, number, (size: SizeResult, r: OperationResult) => string]> = [
    ['memberships', 12, (s) => whole(s.target)],
    ['operation', 9, (_, r) => r.operation],
    ['conns', 5, (_, r) => String(r.connections)],
    ['req/s', 8, (_, r) => (isMeasured(r) ? fixed(1)(r.requestsPerSecond) : '-')],
    ['p50 ms', 7, (_, r) => (isMeasured(r) ? fixed(2)(r.p50Ms) : '-')],
    ['p99 ms', 7, (_, r) => (isMeasured(r) ? fixed(2)(r.p99Ms) : '-')],
    ['requests', 8, (_, r) => (isMeasured(r) ? String(r.requests) : '-')],
    ['non-200', 7, (_, r) => (isMeasured(r) ? String(r.failed) : '-')],
    ['errors', 6, (_, r) => (isMeasured(r) ? String(r.errors) : '-')],
    ['svc cpu', 7, (_, r) => (isMeasured(r) ? fixed(2)(r.cpu.serviceCores) : '-')],
    ['host %', 6, (_, r) => (isMeasured(r) ? fixed(0)(r.cpu.hostBusyPercent) : '-')],
    ['check', 5, (_, r) => (isMeasured(r) ? (operationRunVerified(r) ? 'ok' : 'FAIL') : 'SKIP')],
  ];
  const row = (cells: string[]) => cells.map((cell, i) => cell.padStart(columns[i]![1])).join(' ');
  const ordered = (size: SizeResult) =>
    [...size.operations].sort(
      (a, b) =>
        OPERATION_NAMES.indexOf(a.operation) - OPERATION_NAMES.indexOf(b.operation) || a.connections - b.connections,
    );
  const table = [
    row(columns.map(([title]) => title)),
    ...report.sizes.flatMap((size) => ordered(size).map((r) => row(columns.map(([, , cell]) => cell(size, r))))),
  ];
  const notes = report.sizes.flatMap((size) =>
    size.operations.flatMap((r) => {
      const label = `  ${whole(size.target)} ${r.operation} c=${r.connections}`;
      if (!isMeasured(r)) return [`${label}: skipped (${r.skipped})`];
      const lines: string[] = [];
      if (r.capped) lines.push(`${label}: stopped after ${r.seconds.toFixed(1)} s, its share of customers used up`);
      if (r.memberships && r.memberships.added !== r.memberships.expected)
        lines.push(`${label}: memberships +${r.memberships.added}, expected ${r.memberships.expected}`);
      if (r.firstFailure) lines.push(`${label}: first failure ${r.firstFailure}`);
      return lines;
    }),
  );
  const smallest = whole(report.sizes[0]?.target ?? 0);
  const largest = whole(report.sizes[report.sizes.length - 1]?.target ?? 0);
  const goalLines = [
    '',
    `link cost (1 / req/s at ${goals.linkCostRatio.connections} connections), ${largest} / ${smallest}: ` +
      `${fixed(3)(goals.linkCostRatio.measured)}  goal <= ${goals.linkCostRatio.goal}: ${mark(goals.linkCostRatio.met)}`,
    `link p50 at ${report.settings.connectionLevels[0]} connection(s), ${largest} / ${smallest}: ` +
      `${fixed(3)(goals.linkP50Ratio)} (for information)`,
    `lookup p99 at ${largest}, ${goals.lookupP99Ms.connections} connection(s): ${fixed(2)(goals.lookupP99Ms.measured)} ms  ` +
      `goal <= ${goals.lookupP99Ms.goal} ms: ${mark(goals.lookupP99Ms.met)}`,
    `history p99 at ${largest}, ${goals.historyP99Ms.connections} connection(s): ` +
      `${fixed(2)(goals.historyP99Ms.measured)} ms  goal <= ${goals.historyP99Ms.goal} ms: ${mark(goals.historyP99Ms.met)}`,
    `checks: ${report.verified ? 'ok (every response HTTP 200, every link counted)' : 'FAILED (see above)'}`,
  ];
  const legend = [
    '',
    'memberships: the size the data set was grown to before the row was measured; the operations run in the',
    '  order lookup, history, update, link, delink, so link and delink see the link runs of that size on top.',
    'req/s, p50, p99: measured runs only (after an untimed warm-up); link, update and delink requests carry',
    `  ${BATCH_SIZE} customers each. svc cpu: cores the service kept busy; host %: all cores, PostgreSQL included.`,
  ];
  return [...header, ...growth, '', ...table, ...notes, ...goalLines, ...legend].join('\n');
}

/**
 * latest.json holds the other benches' reports; this one goes under "scale", so that every
 * bench's last figures stay side by side (each with its own finishedAt).
 */
export function writeMergedScaleReport(report: ScaleReport, path: URL, warn: (message: string) => void): void {
  let existing: Record<string, unknown> = {};
  if (existsSync(path)) {
    try {
      existing = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    } catch {
      warn(`${path.pathname} was not JSON; replacing it`);
    }
  }
  mkdirSync(new URL('.', path), { recursive: true });
  writeFileSync(path, `${JSON.stringify({ ...existing, scale: report }, null, 2)}\n`);
}
