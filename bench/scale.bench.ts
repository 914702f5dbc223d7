/**
 * Scale benchmark: `npm run bench:scale`. See bench/README.md, "Scale", for what it measures and
 * its settings (BENCH_SCALE_*).
 *
 * One ROLE=api child (HTTP only: no scheduler sweep or delivery worker runs beside the requests) on
 * one bench database grown set-based through BENCH_SCALE_SIZES memberships; at each size, the same
 * five operations at the same concurrency levels, so their figures compare across sizes.
 */
import pg from 'pg';
import { countMemberships, createBenchDatabase, postgresVersion } from './lib/bench-database.js';
import { withCleanup, type Cleanup } from './lib/cleanup.js';
import { describeMachine, hostBusyBefore } from './lib/machine.js';
import { writeScaleConfigFile } from './lib/scale-config.js';
import { measureOperation } from './lib/scale-load.js';
import {
  formatScaleReport,
  scaleGoals,
  sizesVerified,
  writeMergedScaleReport,
  type OperationResult,
  type ScaleReport,
  type SizeResult,
} from './lib/scale-report.js';
import {
  delinkOperation,
  historyOperation,
  linkOperation,
  lookupOperation,
  updateOperation,
  type Operation,
} from './lib/scale-requests.js';
import { ScaleDataSet } from './lib/scale-seed.js';
import { readScaleSettings, type ScaleSettings } from './lib/scale-settings.js';
import { startService, type RunningService } from './lib/service.js';
import { BATCH_SIZE } from './lib/settings.js';

const RESULTS = new URL('./results/', import.meta.url);

interface Context {
  settings: ScaleSettings;
  service: RunningService;
  admin: pg.Client;
  data: ScaleDataSet;
}

async function runBench(settings: ScaleSettings, cleanup: Cleanup): Promise<void> {
  const database = await createBenchDatabase(settings.serverUrl);
  cleanup.add(`drop database ${database.name}`, database.drop);
  const configFile = writeScaleConfigFile();
  cleanup.add('remove the config file', configFile.remove);

  progress(`database ${database.name}; starting the service (ROLE=api)`);
  const service = await startService({
    mode: 'child',
    databaseUrl: database.url,
    configFile: configFile.path,
    cpuProfileDir: settings.cpuProfile ? new URL('.', RESULTS).pathname : undefined,
    env: { ROLE: 'api' },
  });
  cleanup.add('stop the service', service.stop);

  const admin = new pg.Client({ connectionString: database.url });
  await admin.connect();
  cleanup.add('close the admin connection', () => admin.end());
  const data = await ScaleDataSet.open(admin, settings.membershipsPerChunk);
  const context: Context = { settings, service, admin, data };

  const hostBusyBeforePercent = await hostBusyBefore(progress);

  const sizes: SizeResult[] = [];
  for (const target of settings.sizes) {
    progress(`growing the data set to ${target.toLocaleString('en')} memberships`);
    const growth = await data.growTo(target, settings.freshCustomers, progress);
    progress(
      `grown to ${growth.membershipsAfter.toLocaleString('en')} memberships: seeding ${growth.seedSeconds.toFixed(1)} s, ` +
        `fresh customers ${growth.freshSeconds.toFixed(1)} s, vacuum analyze ${growth.vacuumSeconds.toFixed(1)} s`,
    );
    const tables = await data.sizes();
    sizes.push({ target, growth, tables, operations: await measureSize(context, target) });
  }

  const report: ScaleReport = {
    finishedAt: new Date().toISOString(),
    machine: describeMachine(await postgresVersion(admin)),
    hostBusyBeforePercent,
    settings: {
      sizes: settings.sizes,
      secondsPerOperation: settings.secondsPerOperation,
      connectionLevels: settings.connectionLevels,
      freshCustomers: settings.freshCustomers,
      membershipsPerChunk: settings.membershipsPerChunk,
      cpuProfile: settings.cpuProfile,
      batchSize: BATCH_SIZE,
      setup: 'service child with ROLE=api, autocannon in the bench process',
    },
    sizes,
    goals: scaleGoals(sizes, settings.connectionLevels),
    verified: sizesVerified(sizes),
  };
  const jsonPath = new URL('latest.json', RESULTS);
  writeMergedScaleReport(report, jsonPath, (message) => progress(`warning: ${message}`));
  console.log(`\n${formatScaleReport(report)}\n\nwritten to ${jsonPath.pathname} (key "scale")`);
  if (!report.verified) process.exitCode = 1;
}

/**
 * The five operations at every level, reads first: they see the data set at exactly its size.
 * Link runs before delink, so that at a small size delink also finds the memberships link added.
 */
async function measureSize(context: Context, target: number): Promise<OperationResult[]> {
  const { data, settings, admin } = context;
  const highest = settings.connectionLevels[settings.connectionLevels.length - 1]!;
  const measure = (operation: Operation, countRows?: () => Promise<number>) =>
    atEveryLevel(context, target, operation, countRows);
  const lookups = await measure(lookupOperation(data));
  const histories = await measure(historyOperation(data));
  progress('picking linked memberships at random for update');
  const updates = await measure(updateOperation(await data.randomLinked(settings.freshCustomers), highest));
  const links = await measure(linkOperation(data), () => countMemberships(admin));
  progress('picking linked memberships at random for delink');
  const delinks = await measure(delinkOperation(await data.randomLinked(settings.freshCustomers)));
  return [...lookups, ...histories, ...updates, ...links, ...delinks];
}

async function atEveryLevel(
  { settings, service }: Context,
  target: number,
  operation: Operation,
  countRows?: () => Promise<number>,
): Promise<OperationResult[]> {
  const results: OperationResult[] = [];
  for (const [index, connections] of settings.connectionLevels.entries()) {
    const label = `${target.toLocaleString('en')} ${operation.name} c=${connections}`;
    const result = await measureOperation({
      address: service.address,
      operation,
      connections,
      seconds: settings.secondsPerOperation,
      levelsLeft: settings.connectionLevels.length - index,
      serviceCpuSeconds: service.cpuSeconds,
      countMemberships: countRows,
    });
    const gone = service.exitReason();
    if (gone) throw new Error(`the service ${gone} during ${label}`);
    if (!result) {
      progress(`${label}: skipped, too few customers left for it`);
      results.push({ operation: operation.name, connections, skipped: 'too few customers left for it' });
      continue;
    }
    progress(
      `${label}: ${result.requestsPerSecond.toFixed(1)} req/s, p50 ${result.p50Ms.toFixed(2)} ms, ` +
        `p99 ${result.p99Ms.toFixed(2)} ms${result.failed + result.errors > 0 ? `, ${result.failed + result.errors} FAILED` : ''}`,
    );
    results.push(result);
  }
  return results;
}

function progress(message: string): void {
  console.error(`[bench scale] ${message}`);
}

const settings = readScaleSettings(process.env);
await withCleanup(progress, (cleanup) => runBench(settings, cleanup));
