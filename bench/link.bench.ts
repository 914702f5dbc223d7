/**
 * Link throughput benchmark: `npm run bench`. See bench/README.md for what it measures and the
 * settings (BENCH_CONNECTIONS, BENCH_SECONDS, BENCH_SERVER, ...).
 */
import pg from 'pg';
import { LinkSlots } from './lib/batches.js';
import {
  countMemberships,
  createBenchDatabase,
  partnerProgramId,
  postgresVersion,
  seedCustomers,
} from './lib/bench-database.js';
import { withCleanup, type Cleanup } from './lib/cleanup.js';
import { measureHttpLevel } from './lib/http-load.js';
import { describeMachine, measureCpu } from './lib/machine.js';
import { verified, type Measurement } from './lib/measurement.js';
import { measureRawSqlLevel } from './lib/raw-sql-load.js';
import {
  formatReport,
  levelResult,
  reportedSettings,
  writeJsonReport,
  type BenchReport,
  type LevelResult,
} from './lib/report.js';
import { HTTP_PROGRAMS, RAW_SQL_PROGRAMS, startService, writeConfigFile } from './lib/service.js';
import { readSettings, type BenchSettings } from './lib/settings.js';

const RESULTS = new URL('./results/', import.meta.url);

async function runBench(settings: BenchSettings, cleanup: Cleanup): Promise<void> {
  const database = await createBenchDatabase(settings.serverUrl);
  cleanup.add(`drop database ${database.name}`, database.drop);
  const configFile = writeConfigFile();
  cleanup.add('remove the config file', configFile.remove);

  progress(`database ${database.name}; starting the service (${settings.serverMode})`);
  const service = await startService({
    mode: settings.serverMode,
    databaseUrl: database.url,
    configFile: configFile.path,
    cpuProfileDir: settings.cpuProfile ? new URL('.', RESULTS).pathname : undefined,
  });
  cleanup.add('stop the service', service.stop);

  const admin = new pg.Client({ connectionString: database.url });
  await admin.connect();
  cleanup.add('close the admin connection', () => admin.end());

  const seedStart = performance.now();
  const firstCustomerId = await seedCustomers(admin, settings.customers);
  progress(`seeded ${settings.customers} customers in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`);

  const httpSlots = new LinkSlots(HTTP_PROGRAMS, settings.customers);
  const rawProgramIds: number[] = [];
  for (const name of RAW_SQL_PROGRAMS) rawProgramIds.push(await partnerProgramId(admin, name));
  const rawSlots = new LinkSlots(rawProgramIds, settings.customers);
  const memberships = () => countMemberships(admin);

  // Other work on the host (a test run, a build) skews every number below: measure it first.
  const idle = measureCpu(() => undefined);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const hostBusyBeforePercent = idle().hostBusyPercent;
  if (hostBusyBeforePercent > 10)
    progress(`warning: the host was ${hostBusyBeforePercent.toFixed(0)}% busy before the run`);

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
      countMemberships: memberships,
      serviceCpuSeconds: service.cpuSeconds,
    });
    const gone = service.exitReason();
    if (gone) throw new Error(`the service ${gone} during the c=${connections} level`);
    progress(`c=${connections}: ${summary(serviceRun)}; raw SQL`);
    const rawRun = await measureRawSqlLevel({
      databaseUrl: database.url,
      connections,
      seconds: settings.secondsPerLevel,
      levelsLeft,
      slots: rawSlots,
      serviceBatches: serviceRun?.batches,
      firstCustomerId,
      countMemberships: memberships,
    });
    progress(`c=${connections}: ${summary(rawRun)}`);
    levels.push(levelResult(connections, serviceRun, rawRun));
  }

  const report: BenchReport = {
    finishedAt: new Date().toISOString(),
    machine: describeMachine(await postgresVersion(admin)),
    hostBusyBeforePercent,
    settings: reportedSettings(settings),
    levels,
  };
  const jsonPath = new URL('latest.json', RESULTS);
  writeJsonReport(report, jsonPath);
  console.log(`\n${formatReport(report)}\n\nwritten to ${jsonPath.pathname}`);
  if (levels.some((l) => [l.service, l.rawSql].some((m) => m && !verified(m)))) process.exitCode = 1;
}

function summary(m: Measurement | undefined): string {
  return m ? `${m.linksPerSecond.toFixed(0)} links/s, p99 ${m.p99Ms.toFixed(1)} ms` : 'skipped';
}

function progress(message: string): void {
  console.error(`[bench] ${message}`);
}

const settings = readSettings(process.env);
await withCleanup(progress, (cleanup) => runBench(settings, cleanup));
