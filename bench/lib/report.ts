import { mkdirSync, writeFileSync } from 'node:fs';
import type { Machine } from './machine.js';
import { verified, type Measurement } from './measurement.js';
import { pgbenchVerified, type PgbenchRun } from './pgbench-load.js';
import type { BenchSettings } from './settings.js';
import { BATCH_SIZE } from './settings.js';

export interface LevelResult {
  connections: number;
  service: Measurement | undefined;
  rawSql: Measurement | undefined;
  /** Service links/s over raw SQL links/s: the share of the database's floor the service reaches. */
  serviceToRawSql: number | undefined;
  /** The raw SQL statement run by pgbench, outside node; undefined when it did not run here. */
  pgbench: PgbenchRun | undefined;
  /** Service links/s over pgbench's links/s: svc/raw as checked from outside node. */
  serviceToPgbench: number | undefined;
  /** The service on its embedded PGlite database, at the levels it ran at. */
  pglite: Measurement | undefined;
  /**
   * PGlite links/s over the service's links/s on PostgreSQL at the same level: over `service` on
   * a PostgreSQL run, over `postgres` on a Citus run.
   */
  pgliteToPostgres: number | undefined;
  /** Citus runs: the service on plain PostgreSQL (BENCH_POSTGRES_URL), the same load at the same level. */
  postgres: Measurement | undefined;
  /** Citus runs: the service's links/s on Citus (`service`) over its links/s on PostgreSQL (`postgres`). */
  citusToPostgres: number | undefined;
}

/** A part of the run that ran, or why it did not (a setting, a missing program, nothing to compare). */
export type Part<Ran = object> = ({ ran: true } & Ran) | { ran: false; reason: string };

export interface BenchReport {
  finishedAt: string;
  machine: Machine;
  /** Busy share of all cores in the second before the first level: load that is not the bench's. */
  hostBusyBeforePercent: number;
  /**
   * What BENCH_DATABASE_URL named, where the service, raw SQL and pgbench columns ran: PostgreSQL,
   * or a Citus coordinator (the bench database made on every node, the tables distributed by org).
   */
  database: 'postgres' | 'citus';
  settings: Omit<BenchSettings, 'serverUrl' | 'postgresUrl'> & { batchSize: number };
  /** Citus runs: the service on plain PostgreSQL too (BENCH_POSTGRES_URL), with that server's version. */
  postgres: Part<{ version: string }>;
  pgbench: Part;
  pglite: Part<{ levels: number[] }>;
  levels: LevelResult[];
}

/** The settings worth saving with the results; the server URLs are left out (they may hold a password). */
export function reportedSettings(settings: BenchSettings): BenchReport['settings'] {
  const { connectionLevels, secondsPerLevel, customers, serverMode, cpuProfile } = settings;
  const { pglite, pgliteConnectionLevels, pgbench } = settings;
  return {
    connectionLevels,
    secondsPerLevel,
    customers,
    serverMode,
    cpuProfile,
    pglite,
    pgliteConnectionLevels,
    pgbench,
    batchSize: BATCH_SIZE,
  };
}

export function levelResult(
  connections: number,
  service?: Measurement,
  rawSql?: Measurement,
  pgbench?: PgbenchRun,
): LevelResult {
  return {
    connections,
    service,
    rawSql,
    serviceToRawSql: ratio(service?.linksPerSecond, rawSql?.linksPerSecond),
    pgbench,
    serviceToPgbench: ratio(service?.linksPerSecond, pgbench?.linksPerSecond),
    pglite: undefined,
    pgliteToPostgres: undefined,
    postgres: undefined,
    citusToPostgres: undefined,
  };
}

/** A Citus level with the service's figures on plain PostgreSQL beside. */
export function withPostgres(level: LevelResult, postgres: Measurement | undefined): LevelResult {
  return { ...level, postgres, citusToPostgres: ratio(level.service?.linksPerSecond, postgres?.linksPerSecond) };
}

/**
 * The level with PGlite's figures beside PostgreSQL's: the service's on a PostgreSQL run, those
 * of the service on BENCH_POSTGRES_URL on a Citus run.
 */
export function withPGlite(
  level: LevelResult,
  pglite: Measurement | undefined,
  database: BenchReport['database'],
): LevelResult {
  const postgres = database === 'citus' ? level.postgres : level.service;
  return { ...level, pglite, pgliteToPostgres: ratio(pglite?.linksPerSecond, postgres?.linksPerSecond) };
}

function ratio(over: number | undefined, under: number | undefined): number | undefined {
  return over !== undefined && under !== undefined && under > 0 ? over / under : undefined;
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
    ...(machine.citus ? [`Citus: ${machine.citus}`] : []),
    ...(report.database === 'citus'
      ? [
          'service, raw and pgbench columns: on the Citus cluster (tables distributed by org_id, every statement on one shard)',
          ...(report.postgres.ran
            ? [`pg columns: the service on plain PostgreSQL (BENCH_POSTGRES_URL): ${report.postgres.version}`]
            : []),
        ]
      : []),
    `host busy before the run: ${report.hostBusyBeforePercent.toFixed(0)}% of all cores (other load skews the results)`,
    '',
  ];
  const columns = [
    ...postgresColumns,
    ...(report.postgres.ran ? plainPostgresColumns : []),
    ...(report.pgbench.ran ? pgbenchColumns : []),
    ...(report.pglite.ran ? pgliteColumns : []),
  ];
  const row = (cells: string[]) => cells.map((cell, i) => cell.padStart(columns[i]![1])).join(' ');
  const table = [
    row(columns.map(([title]) => title)),
    ...report.levels.map((l) => row(columns.map(([, , cell]) => cell(l)))),
  ];
  return [
    ...header,
    ...table,
    '',
    ...report.levels.flatMap((level) => checks(report, level)),
    ...skippedParts(report),
    ...legend(report),
  ].join('\n');
}

type Column = [title: string, width: number, cell: (level: LevelResult) => string];

const postgresColumns: Column[] = [
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

/** Citus runs: the service on plain PostgreSQL, and the Citus/PostgreSQL ratio of links/s. */
const plainPostgresColumns: Column[] = [
  ['| pg links/s', 11, (l) => whole(l.postgres?.linksPerSecond)],
  ['p50 ms', 7, (l) => fixed(1)(l.postgres?.p50Ms)],
  ['p99 ms', 7, (l) => fixed(1)(l.postgres?.p99Ms)],
  ['svc cpu', 7, (l) => fixed(2)(l.postgres?.cpu.serviceCores)],
  ['host %', 6, (l) => whole(l.postgres?.cpu.hostBusyPercent)],
  ['citus/pg', 8, (l) => fixed(3)(l.citusToPostgres)],
];

const pgbenchColumns: Column[] = [
  ['| pgbench links/s', 16, (l) => whole(l.pgbench?.linksPerSecond)],
  ['avg ms', 7, (l) => fixed(2)(l.pgbench?.latencyAverageMs)],
  ['svc/pgbench', 11, (l) => fixed(3)(l.serviceToPgbench)],
];

const pgliteColumns: Column[] = [
  ['| PGlite links/s', 15, (l) => whole(l.pglite?.linksPerSecond)],
  ['p50 ms', 7, (l) => fixed(1)(l.pglite?.p50Ms)],
  ['p99 ms', 7, (l) => fixed(1)(l.pglite?.p99Ms)],
  ['svc cpu', 7, (l) => fixed(2)(l.pglite?.cpu.serviceCores)],
  ['PGlite/pg', 9, (l) => fixed(3)(l.pgliteToPostgres)],
];

/** What each side of the level verified; sides that were not asked for at this level say nothing. */
function checks(report: BenchReport, level: LevelResult): string[] {
  const c = `c=${level.connections}`;
  const citus = report.database === 'citus';
  const lines = [
    describe(`${c} service${citus ? ' on Citus' : ''}`, level.service),
    describe(`${c} raw SQL${citus ? ' on Citus' : ''}`, level.rawSql),
  ];
  if (report.pgbench.ran) lines.push(describePgbench(c, level.pgbench));
  if (report.postgres.ran) lines.push(describe(`${c} service on PostgreSQL`, level.postgres));
  if (report.pglite.ran && report.pglite.levels.includes(level.connections))
    lines.push(describe(`${c} PGlite`, level.pglite));
  return lines;
}

function describe(side: string, m: Measurement | undefined): string {
  if (!m) return `  ${side}: skipped (too few unused customers left)`;
  const mark = verified(m) ? 'ok' : 'MISMATCH';
  const capped = m.cappedByCustomers ? ', stopped early: its share of customers was used up' : '';
  const failure = m.firstFailure ? `\n      first failure: ${m.firstFailure}` : '';
  return (
    `  ${side}: ${m.batches} batches in ${m.seconds.toFixed(1)} s; memberships +${m.memberships.added}, ` +
    `expected ${m.memberships.expected} (${BATCH_SIZE} x successful batches, warm-up included): ${mark}${capped}${failure}`
  );
}

function describePgbench(c: string, run: PgbenchRun | undefined): string {
  if (!run) return `  ${c} pgbench: skipped (too few unused customers left)`;
  const mark = pgbenchVerified(run) ? 'ok' : 'MISMATCH';
  const failure = run.firstFailure ? `\n      first failure: ${run.firstFailure}` : '';
  return (
    `  ${c} pgbench: ${run.processed}/${run.requested} transactions (${run.failed} failed) in ${run.seconds.toFixed(1)} s; ` +
    `memberships +${run.memberships.added}, expected ${run.memberships.expected} (${BATCH_SIZE} x processed): ${mark}${failure}` +
    `\n      ${run.command}`
  );
}

function skippedParts(report: BenchReport): string[] {
  return [
    ...(report.database === 'citus' && !report.postgres.ran
      ? [`  service on PostgreSQL: not run (${report.postgres.reason})`]
      : []),
    ...(report.pgbench.ran ? [] : [`  pgbench: not run (${report.pgbench.reason})`]),
    ...(report.pglite.ran ? [] : [`  PGlite: not run (${report.pglite.reason})`]),
  ];
}

function legend(report: BenchReport): string[] {
  return [
    '',
    'req/s, links/s: measured run only (after an untimed warm-up); links/s = 50 x req/s.',
    'svc cpu: cores the service process kept busy (child mode only); load cpu: the bench process',
    '  (autocannon, and the service too when it runs in-process); host %: all cores, PostgreSQL included.',
    'raw: one INSERT ... unnest ... ON CONFLICT + activities CTE per batch on a pg.Pool of size conns,',
    '     for as many batches as the service did at that level (the same work, so a shorter run).',
    'svc/raw: service links/s over raw SQL links/s.',
    ...(report.postgres.ran
      ? [
          'pg: the same service, config, seed and load on a database of its own on plain PostgreSQL, after the',
          '     Citus levels (the service on Citus stopped); citus/pg: links/s on Citus over links/s on PostgreSQL.',
        ]
      : []),
    ...(report.pgbench.ran
      ? [
          'pgbench: the raw statement, batches numbered by a sequence, -c conns -j conns -M prepared, as many',
          '     transactions as the service did (in whole -t per client); links/s = 50 x its tps; avg ms: its',
          '     latency average; svc/pgbench: service links/s over pgbench links/s.',
        ]
      : []),
    ...(report.pglite.ran
      ? [
          'PGlite: the same service and load on its embedded database (fresh DATA_DIR, same customers), one',
          '     service start per level; PGlite/pg: its links/s over the service on PostgreSQL at that level',
          `     (${report.database === 'citus' ? 'the pg column' : 'the links/s column'}).`,
        ]
      : []),
  ];
}

export function writeJsonReport(report: BenchReport, path: URL): void {
  mkdirSync(new URL('.', path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
}
