/**
 * Link throughput benchmark: `npm run bench`. See bench/README.md for what it measures and the
 * settings (BENCH_CONNECTIONS, BENCH_SECONDS, BENCH_SERVER, BENCH_PGLITE, BENCH_PGBENCH, ...).
 * With BENCH_DATABASE_URL at a Citus coordinator, the service is measured on the cluster, then on
 * the plain PostgreSQL of BENCH_POSTGRES_URL, and the table gives their ratio per level.
 */
import pg from 'pg';
import { LinkSlots } from './lib/batches.js';
import {
  citusVersion,
  countMemberships,
  createBenchDatabase,
  describeServer,
  partnerProgramId,
  postgresVersion,
  redacted,
  seedCustomers,
  type BenchServer,
} from './lib/bench-database.js';
import { withCleanup, type Cleanup } from './lib/cleanup.js';
import { measureHttpLevel } from './lib/http-load.js';
import { describeMachine, hostBusyBefore } from './lib/machine.js';
import { verified, type Measurement } from './lib/measurement.js';
import { Pgbench, pgbenchMissing, pgbenchVerified, type PgbenchRun } from './lib/pgbench-load.js';
import { PGliteService, type PGliteOptions } from './lib/pglite-service.js';
import { measureRawSqlLevel } from './lib/raw-sql-load.js';
import {
  formatReport,
  levelResult,
  reportedSettings,
  withPGlite,
  withPostgres,
  writeJsonReport,
  type BenchReport,
  type LevelResult,
  type Part,
} from './lib/report.js';
import {
  HTTP_PROGRAMS,
  PGBENCH_PROGRAMS,
  RAW_SQL_PROGRAMS,
  startService,
  writeConfigFile,
  type RunningService,
} from './lib/service.js';
import { readSettings, type BenchSettings } from './lib/settings.js';

const RESULTS = new URL('./results/', import.meta.url);

async function runBench(settings: BenchSettings, cleanup: Cleanup): Promise<void> {
  const server = await describeServer(settings.serverUrl);
  // Checked before anything is measured: a wrong BENCH_POSTGRES_URL fails in seconds, not after the Citus levels.
  const comparison = await postgresToRun(settings, server);
  const database = await createBenchDatabase(settings.serverUrl);
  cleanup.add(`drop database ${database.name}`, database.drop);
  const configFile = writeConfigFile();
  cleanup.add('remove the config file', configFile.remove);
  const cpuProfileDir = settings.cpuProfile ? new URL('.', RESULTS).pathname : undefined;

  const on = server.kind === 'citus' ? `the Citus coordinator, ${server.workers.length} workers` : 'PostgreSQL';
  progress(`database ${database.name} on ${on}; starting the service (${settings.serverMode})`);
  const service = await startService({
    mode: settings.serverMode,
    databaseUrl: database.url,
    configFile: configFile.path,
    cpuProfileDir,
  });
  const stopService = once(service.stop);
  cleanup.add('stop the service', stopService);

  const admin = new pg.Client({ connectionString: database.url });
  await admin.connect();
  cleanup.add('close the admin connection', () => admin.end());

  const seedStart = performance.now();
  const firstCustomerId = await seedCustomers(admin, settings.customers);
  progress(`seeded ${settings.customers} customers in ${secondsSince(seedStart)} s`);
  const pgbenchPart = pgbenchToRun(settings);
  const pgbench = pgbenchPart.ran
    ? await Pgbench.prepare({
        admin,
        databaseUrl: database.url,
        programIds: await programIds(admin, PGBENCH_PROGRAMS),
        customers: settings.customers,
        firstCustomerId,
      })
    : undefined;

  const hostBusyBeforePercent = await hostBusyBefore(progress);
  let levels = await measurePostgresLevels(settings, {
    service,
    databaseUrl: database.url,
    firstCustomerId,
    rawSlots: new LinkSlots(await programIds(admin, RAW_SQL_PROGRAMS), settings.customers),
    pgbench,
    countMemberships: () => countMemberships(admin),
  });

  // The service sweeps every second while it runs (ROLE=all): it would share the host with the next part.
  await stopService();
  let postgresPart: BenchReport['postgres'];
  if (comparison.ran) {
    const options = { settings, configFile: configFile.path, cpuProfileDir, cleanup };
    const measured = await measureOnPostgres(options, levels);
    levels = measured.levels;
    postgresPart = { ran: true, version: measured.version };
  } else postgresPart = comparison;
  const pglitePart = pgliteToRun(settings, server, levels);
  if (pglitePart.ran) {
    const options = {
      mode: settings.serverMode,
      configFile: configFile.path,
      customers: settings.customers,
      cpuProfileDir,
    };
    levels = await measurePGlite(settings, options, pglitePart.levels, levels, server, cleanup);
  }

  const report: BenchReport = {
    finishedAt: new Date().toISOString(),
    machine: describeMachine(await postgresVersion(admin), await citusVersion(admin, database.server)),
    hostBusyBeforePercent,
    database: server.kind,
    settings: reportedSettings(settings),
    postgres: postgresPart,
    pgbench: pgbenchPart,
    pglite: pglitePart,
    levels,
  };
  // A Citus run keeps its own file, so that it does not replace the last run on PostgreSQL.
  const jsonPath = new URL(server.kind === 'citus' ? 'latest-citus.json' : 'latest.json', RESULTS);
  writeJsonReport(report, jsonPath);
  console.log(`\n${formatReport(report)}\n\nwritten to ${jsonPath.pathname}`);
  if (!levels.every(levelVerified)) process.exitCode = 1;
}

interface PostgresSides {
  service: RunningService;
  databaseUrl: string;
  firstCustomerId: number;
  rawSlots: LinkSlots<number>;
  /** Undefined when pgbench does not run. */
  pgbench: Pgbench | undefined;
  countMemberships: () => Promise<number>;
}

/** Each level on PostgreSQL: the service over HTTP, then the raw SQL run and pgbench doing the same work. */
async function measurePostgresLevels(settings: BenchSettings, sides: PostgresSides): Promise<LevelResult[]> {
  const { service, countMemberships } = sides;
  const httpSlots = new LinkSlots(HTTP_PROGRAMS, settings.customers);
  const levels: LevelResult[] = [];
  for (const [index, connections] of settings.connectionLevels.entries()) {
    const levelsLeft = settings.connectionLevels.length - index;
    progress(`c=${connections}: service over HTTP`);
    const serviceRun = await measureHttpLevel({
      address: service.address,
      connections,
      seconds: settings.secondsPerLevel,
      levelsLeft,
      slots: httpSlots,
      countMemberships,
      serviceCpuSeconds: service.cpuSeconds,
    });
    const gone = service.exitReason();
    if (gone) throw new Error(`the service ${gone} during the c=${connections} level`);
    progress(`c=${connections}: ${summary(serviceRun)}; raw SQL`);
    const serviceBatches = serviceRun?.batches;
    const rawRun = await measureRawSqlLevel({
      databaseUrl: sides.databaseUrl,
      connections,
      seconds: settings.secondsPerLevel,
      levelsLeft,
      slots: sides.rawSlots,
      serviceBatches,
      firstCustomerId: sides.firstCustomerId,
      countMemberships,
    });
    progress(`c=${connections}: ${summary(rawRun)}`);
    const pgbenchRun = await sides.pgbench?.measureLevel({ connections, levelsLeft, serviceBatches, countMemberships });
    if (sides.pgbench) progress(`c=${connections}: pgbench ${summary(pgbenchRun)}`);
    levels.push(levelResult(connections, serviceRun, rawRun, pgbenchRun));
  }
  return levels;
}

/**
 * The service on plain PostgreSQL beside its Citus figures: on a Citus run, unless
 * BENCH_POSTGRES_URL is set empty. That server must not be a Citus coordinator itself.
 */
async function postgresToRun(settings: BenchSettings, server: BenchServer): Promise<Part> {
  if (server.kind !== 'citus')
    return { ran: false, reason: 'BENCH_DATABASE_URL is PostgreSQL, not a Citus coordinator' };
  if (!settings.postgresUrl) return { ran: false, reason: 'BENCH_POSTGRES_URL is empty' };
  const other = await describeServer(settings.postgresUrl).catch((error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(
      `BENCH_POSTGRES_URL ${redacted(settings.postgresUrl!)}: ${message} ` +
        '(the Citus run compares with the service on that PostgreSQL; set BENCH_POSTGRES_URL= to skip it)',
    );
  });
  if (other.kind === 'citus')
    throw new Error(
      `BENCH_POSTGRES_URL ${redacted(settings.postgresUrl)} is a Citus coordinator too: it must be plain PostgreSQL`,
    );
  return { ran: true };
}

/**
 * The service alone on plain PostgreSQL, at every level of the Citus run: a database of its own,
 * the same config, seed and load (warm-up, sized runs, fresh customers to Goldstar… in that
 * database), the memberships checked as on Citus. Started after the service on Citus has stopped,
 * and stopped before PGlite, so that no two services share the host.
 */
async function measureOnPostgres(
  options: { settings: BenchSettings; configFile: string; cpuProfileDir: string | undefined; cleanup: Cleanup },
  levels: readonly LevelResult[],
): Promise<{ levels: LevelResult[]; version: string }> {
  const { settings, cleanup } = options;
  const database = await createBenchDatabase(settings.postgresUrl!);
  cleanup.add(`drop database ${database.name} (PostgreSQL)`, database.drop);
  progress(`PostgreSQL: database ${database.name}; starting the service (${settings.serverMode})`);
  const service = await startService({
    mode: settings.serverMode,
    databaseUrl: database.url,
    configFile: options.configFile,
    cpuProfileDir: options.cpuProfileDir,
  });
  const stopService = once(service.stop);
  cleanup.add('stop the service on PostgreSQL', stopService);
  const admin = new pg.Client({ connectionString: database.url });
  await admin.connect();
  cleanup.add('close the PostgreSQL admin connection', () => admin.end());
  const seedStart = performance.now();
  await seedCustomers(admin, settings.customers);
  progress(`PostgreSQL: seeded ${settings.customers} customers in ${secondsSince(seedStart)} s`);

  const slots = new LinkSlots(HTTP_PROGRAMS, settings.customers);
  const results: LevelResult[] = [];
  for (const [index, level] of levels.entries()) {
    const { connections } = level;
    progress(`c=${connections}: service on PostgreSQL`);
    const run = await measureHttpLevel({
      address: service.address,
      connections,
      seconds: settings.secondsPerLevel,
      levelsLeft: levels.length - index,
      slots,
      countMemberships: () => countMemberships(admin),
      serviceCpuSeconds: service.cpuSeconds,
    });
    const gone = service.exitReason();
    if (gone) throw new Error(`the service on PostgreSQL ${gone} during the c=${connections} level`);
    const ratio =
      run && level.service
        ? `; Citus/PostgreSQL ${(level.service.linksPerSecond / run.linksPerSecond).toFixed(3)}`
        : '';
    progress(`c=${connections}: PostgreSQL ${summary(run)}${ratio}`);
    results.push(withPostgres(level, run));
  }
  await stopService();
  return { levels: results, version: await postgresVersion(admin) };
}

/** pgbench runs unless BENCH_PGBENCH=0 or it is not installed; the table then goes without it. */
function pgbenchToRun(settings: BenchSettings): BenchReport['pgbench'] {
  if (!settings.pgbench) return { ran: false, reason: 'BENCH_PGBENCH=0' };
  const missing = pgbenchMissing();
  if (missing) progress(`skipping pgbench: ${missing}`);
  return missing ? { ran: false, reason: missing } : { ran: true };
}

/**
 * PGlite's levels: BENCH_PGLITE_CONNECTIONS, else the level where the service linked most per
 * second on PostgreSQL (on a Citus run: on BENCH_POSTGRES_URL, when it ran, else on Citus), the
 * one the goal compares with. None when no level measured the service.
 */
function pgliteToRun(
  settings: BenchSettings,
  server: BenchServer,
  levels: readonly LevelResult[],
): BenchReport['pglite'] {
  if (!settings.pglite) return { ran: false, reason: 'BENCH_PGLITE=0' };
  if (settings.pgliteConnectionLevels) return { ran: true, levels: settings.pgliteConnectionLevels };
  const onPostgres = (l: LevelResult) => (server.kind === 'citus' && l.postgres ? l.postgres : l.service);
  const best = levels
    .filter((l) => onPostgres(l))
    .reduce<LevelResult | undefined>(
      (a, b) => (a && onPostgres(a)!.linksPerSecond >= onPostgres(b)!.linksPerSecond ? a : b),
      undefined,
    );
  return best
    ? { ran: true, levels: [best.connections] }
    : { ran: false, reason: 'no PostgreSQL level measured the service, so none to compare with' };
}

/**
 * The service on PGlite at `pgliteLevels` (each one of `levels`), after the PostgreSQL levels so
 * that neither database shares the host with the other's service; its figures join those levels.
 */
async function measurePGlite(
  settings: BenchSettings,
  options: PGliteOptions,
  pgliteLevels: readonly number[],
  levels: readonly LevelResult[],
  server: BenchServer,
  cleanup: Cleanup,
): Promise<LevelResult[]> {
  progress(`PGlite: preparing a data dir with ${settings.customers} customers`);
  const prepareStart = performance.now();
  const pglite = await PGliteService.prepare(options, cleanup);
  progress(`PGlite: migrated, configured and seeded in ${secondsSince(prepareStart)} s`);
  const results = new Map<number, Measurement | undefined>();
  for (const [index, connections] of pgliteLevels.entries()) {
    progress(`c=${connections}: service on PGlite`);
    const run = await pglite.measureLevel({
      connections,
      seconds: settings.secondsPerLevel,
      levelsLeft: pgliteLevels.length - index,
    });
    progress(`c=${connections}: PGlite ${summary(run)}`);
    results.set(connections, run);
  }
  return levels.map((level) =>
    results.has(level.connections) ? withPGlite(level, results.get(level.connections), server.kind) : level,
  );
}

/** Every side that ran at the level passed its checks. */
function levelVerified(level: LevelResult): boolean {
  const measurements = [level.service, level.rawSql, level.postgres, level.pglite];
  return measurements.every((m) => !m || verified(m)) && (!level.pgbench || pgbenchVerified(level.pgbench));
}

async function programIds(admin: pg.Client, names: readonly string[]): Promise<number[]> {
  const ids: number[] = [];
  for (const name of names) ids.push(await partnerProgramId(admin, name));
  return ids;
}

/** A stop that may be called again (early, then by the cleanup) and stops once. */
function once(stop: () => Promise<void>): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () => (stopping ??= stop());
}

function secondsSince(start: number): string {
  return ((performance.now() - start) / 1000).toFixed(1);
}

function summary(m: Measurement | PgbenchRun | undefined): string {
  if (!m) return 'skipped';
  const latency = 'p99Ms' in m ? `p99 ${m.p99Ms.toFixed(1)} ms` : `average ${m.latencyAverageMs.toFixed(1)} ms`;
  return `${m.linksPerSecond.toFixed(0)} links/s, ${latency}`;
}

function progress(message: string): void {
  console.error(`[bench] ${message}`);
}

const settings = readSettings(process.env);
await withCleanup(progress, (cleanup) => runBench(settings, cleanup));
