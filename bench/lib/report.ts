import { mkdirSync, writeFileSync } from 'node:fs';
import type { Machine } from './machine.js';
import { verified, type Measurement } from './measurement.js';
import type { BenchSettings } from './settings.js';
import { BATCH_SIZE } from './settings.js';

export interface LevelResult {
  connections: number;
  service: Measurement | undefined;
  rawSql: Measurement | undefined;
  /** Service links/s over raw SQL links/s: the share of the database's floor the service reaches. */
  serviceToRawSql: number | undefined;
}

export interface BenchReport {
  finishedAt: string;
  machine: Machine;
  /** Busy share of all cores in the second before the first level: load that is not the bench's. */
  hostBusyBeforePercent: number;
  settings: Omit<BenchSettings, 'serverUrl'> & { batchSize: number };
  levels: LevelResult[];
}

/** The settings worth saving with the results; the server URL is left out (it may hold a password). */
export function reportedSettings(settings: BenchSettings): BenchReport['settings'] {
  const { connectionLevels, secondsPerLevel, customers, serverMode, cpuProfile } = settings;
  return { connectionLevels, secondsPerLevel, customers, serverMode, cpuProfile, batchSize: BATCH_SIZE };
}

export function levelResult(connections: number, service?: Measurement, rawSql?: Measurement): LevelResult {
  const serviceToRawSql =
    service && rawSql && rawSql.linksPerSecond > 0 ? service.linksPerSecond / rawSql.linksPerSecond : undefined;
  return { connections, service, rawSql, serviceToRawSql };
}

const fixed = (digits: number) => (value: number | undefined) => (value === undefined ? '-' : value.toFixed(digits));
const whole = fixed(0);

/** The table printed at the end: one row per concurrency level, then what each row verified. */
export function formatReport(report: BenchReport): string {
  const { machine, settings } = report;
  const header = [
    `Link throughput: batches of ${BATCH_SIZE} customers, ~${settings.secondsPerLevel} s per level, ` +
      `service ${settings.serverMode === 'child' ? 'in a child process' : 'in the bench process'}`,
    `machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, node ${machine.node}`,
    `database: ${machine.postgres}`,
    `host busy before the run: ${report.hostBusyBeforePercent.toFixed(0)}% of all cores (other load skews the results)`,
    '',
  ];
  const columns: Array<[string, number, (level: LevelResult) => string]> = [
    ['conns', 5, (l) => String(l.connections)],
    ['req/s', 8, (l) => fixed(1)(l.service?.batchesPerSecond)],
    ['links/s', 8, (l) => whole(l.service?.linksPerSecond)],
    ['p50 ms', 7, (l) => fixed(1)(l.service?.p50Ms)],
    ['p99 ms', 7, (l) => fixed(1)(l.service?.p99Ms)],
    ['non-200', 7, (l) => whole(l.service?.failed)],
    ['errors', 6, (l) => whole(l.service?.errors)],
    ['svc cpu', 7, (l) => fixed(2)(l.service?.cpu.serviceCores)],
    ['load cpu', 8, (l) => fixed(2)(l.service?.cpu.benchCores)],
    ['host %', 6, (l) => whole(l.service?.cpu.hostBusyPercent)],
    ['| raw links/s', 12, (l) => whole(l.rawSql?.linksPerSecond)],
    ['p50 ms', 7, (l) => fixed(2)(l.rawSql?.p50Ms)],
    ['p99 ms', 7, (l) => fixed(2)(l.rawSql?.p99Ms)],
    ['host %', 6, (l) => whole(l.rawSql?.cpu.hostBusyPercent)],
    ['| svc/raw', 9, (l) => fixed(3)(l.serviceToRawSql)],
  ];
  const row = (cells: string[]) => cells.map((cell, i) => cell.padStart(columns[i]![1])).join(' ');
  const table = [
    row(columns.map(([title]) => title)),
    ...report.levels.map((l) => row(columns.map(([, , cell]) => cell(l)))),
  ];
  return [...header, ...table, '', ...report.levels.flatMap(checks), ...legend].join('\n');
}

function checks(level: LevelResult): string[] {
  const describe = (side: string, m: Measurement | undefined) => {
    if (!m) return `  c=${level.connections} ${side}: skipped (too few unused customers left)`;
    const mark = verified(m) ? 'ok' : 'MISMATCH';
    const capped = m.cappedByCustomers ? ', stopped early: its share of customers was used up' : '';
    const failure = m.firstFailure ? `\n      first failure: ${m.firstFailure}` : '';
    return (
      `  c=${level.connections} ${side}: ${m.batches} batches in ${m.seconds.toFixed(1)} s; memberships +${m.memberships.added}, ` +
      `expected ${m.memberships.expected} (${BATCH_SIZE} x successful batches, warm-up included): ${mark}${capped}${failure}`
    );
  };
  return [describe('service', level.service), describe('raw SQL', level.rawSql)];
}

const legend = [
  '',
  'req/s, links/s: measured run only (after an untimed warm-up); links/s = 50 x req/s.',
  'svc cpu: cores the service process kept busy (child mode only); load cpu: the bench process',
  '  (autocannon, and the service too when it runs in-process); host %: all cores, PostgreSQL included.',
  'raw: one INSERT ... unnest ... ON CONFLICT + activities CTE per batch on a pg.Pool of size conns,',
  '     for as many batches as the service did at that level (the same work, so a shorter run).',
  'svc/raw: service links/s over raw SQL links/s.',
];

export function writeJsonReport(report: BenchReport, path: URL): void {
  mkdirSync(new URL('.', path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
}
