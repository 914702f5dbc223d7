/**
 * Scheduler drain benchmark: `npm run bench:drain`. See bench/README.md, "Scheduler drain", for
 * what it measures and its settings (BENCH_DRAIN_*).
 *
 * One data set of due relinks, seeded once into a template database; each scenario drains its own
 * copy with ROLE=worker children: one worker, two workers together, and one worker beside a
 * ROLE=api child under a steady link load. Every figure is from this one run, on one host.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { LinkSlots } from './lib/batches.js';
import { createBenchDatabase, describeServer, postgresVersion, type BenchDatabase } from './lib/bench-database.js';
import { Cleanup, withCleanup } from './lib/cleanup.js';
import { writeDrainConfigFile } from './lib/drain-config.js';
import { latencyOf, linksWhile, WARM_UP_SECONDS } from './lib/drain-links.js';
import {
  drainGoals,
  formatDrainReport,
  scenarioVerified,
  writeDrainReport,
  type DrainReport,
  type LinksDuringDrain,
  type ScenarioResult,
} from './lib/drain-report.js';
import { prepareSession, seedDrainData, type SeedResult } from './lib/drain-seed.js';
import { readDrainSettings, type DrainSettings } from './lib/drain-settings.js';
import { verifyDrain } from './lib/drain-verify.js';
import { watchDrain, type DrainTiming } from './lib/drain-watch.js';
import { relinksActivated, startWorkers, type Worker } from './lib/drain-workers.js';
import { describeMachine, hostBusyBefore, measureCpu, type CpuUse } from './lib/machine.js';
import { runPacedLinks, type PacedBatch } from './lib/paced-load.js';
import { HTTP_PROGRAMS, startService, type RunningService } from './lib/service.js';
import { BATCH_SIZE } from './lib/settings.js';

const RESULTS = new URL('./results/', import.meta.url);
/** The link load's program: EXTERNAL, and no fresh customer is linked to it before. */
const LINK_PROGRAM = HTTP_PROGRAMS[0]!;
const DAY_MS = 86_400_000;

interface Context {
  settings: DrainSettings;
  /** Over the bench's environment for every child: one secrets key, so no child writes a key file of its own. */
  env: Record<string, string>;
  configFile: string;
  template: BenchDatabase;
  seed: SeedResult;
  cleanup: Cleanup;
}

/** One scenario's database, client and children, undone when it ends. */
interface Scene {
  context: Context;
  database: BenchDatabase;
  client: pg.Client;
  cleanup: Cleanup;
  copySeconds: number;
}

async function runBench(settings: DrainSettings, cleanup: Cleanup): Promise<void> {
  const configFile = writeDrainConfigFile();
  cleanup.add('remove the config file', configFile.remove);
  const env = {
    SECRETS_KEY: randomBytes(32).toString('hex'),
    // A worker sleeps this long between rounds: short, so that a round ended early (a batch that
    // found fewer than a batch's worth unlocked) costs the drain little.
    SCHEDULER_INTERVAL_MS: process.env.SCHEDULER_INTERVAL_MS ?? '200',
  };
  const worker = workerSettings({ ...process.env, ...env, ROLE: 'worker' });
  const hostBusyBeforePercent = await hostBusyBefore(progress);

  // Each scenario copies the template, which createBenchDatabase does on PostgreSQL only: said before the seeding.
  if ((await describeServer(settings.serverUrl)).kind === 'citus')
    throw new Error(
      'bench:drain copies a seeded template database for each scenario, which is done on PostgreSQL only: ' +
        'BENCH_DATABASE_URL is a Citus coordinator',
    );
  const template = await createBenchDatabase(settings.serverUrl);
  cleanup.add(`drop database ${template.name}`, template.drop);
  const { seed, postgres } = await seedTemplate(settings, template, configFile.path, env, worker.eventRetentionDays);
  const context: Context = { settings, env, configFile: configFile.path, template, seed, cleanup };

  const scenarios: ScenarioResult[] = [];
  scenarios.push(await inScene(context, 'one worker', (scene) => workersOnly(scene, 'one worker', 1)));
  scenarios.push(await inScene(context, 'two workers', (scene) => workersOnly(scene, 'two workers', 2)));
  scenarios.push(
    await inScene(context, 'API during the drain', (scene) => apiDuringDrain(scene, 'API during the drain')),
  );

  const { relinks, relinksPerChunk, linkBatchesPerSecond, linkSeconds, timeoutSeconds, freshCustomers } = settings;
  const report: DrainReport = {
    finishedAt: new Date().toISOString(),
    machine: describeMachine(postgres),
    hostBusyBeforePercent,
    // The server URL is left out: it may hold a password.
    settings: {
      relinks,
      relinksPerChunk,
      linkBatchesPerSecond,
      linkSeconds,
      timeoutSeconds,
      freshCustomers,
      scheduler: worker.scheduler,
      eventRetentionDays: worker.eventRetentionDays,
      linkBatchSize: BATCH_SIZE,
      setup: 'ROLE=worker children (and a ROLE=api child in the API scenario), each scenario on its own copy',
    },
    seed,
    scenarios,
    goals: drainGoals(scenarios),
    verified: scenarios.every((s) => s.verified),
  };
  const jsonPath = new URL('drain.json', RESULTS);
  writeDrainReport(report, jsonPath);
  console.log(`\n${formatDrainReport(report)}\n\nwritten to ${jsonPath.pathname}`);
  if (!report.verified) process.exitCode = 1;
}

/**
 * What the workers will read from the same environment (a bad value fails here, before any
 * seeding): the scheduler's settings (batch size, interval and any other it has) and the pool
 * for the report, the events' retention for the seed.
 */
function workerSettings(env: NodeJS.ProcessEnv): { scheduler: Record<string, unknown>; eventRetentionDays: number } {
  const config = loadConfig(env);
  const scheduler = Object.fromEntries(
    Object.entries(config).filter(([key]) => key.startsWith('scheduler') || key === 'databasePoolSize'),
  );
  return { scheduler, eventRetentionDays: config.eventRetentionDays };
}

/**
 * Migrates the template and applies the configuration through a ROLE=api child (stopped at once:
 * a template takes no connections while it is copied), then seeds it.
 */
async function seedTemplate(
  settings: DrainSettings,
  template: BenchDatabase,
  configFile: string,
  env: Record<string, string>,
  eventRetentionDays: number,
): Promise<{ seed: SeedResult; postgres: string }> {
  progress(`database ${template.name}: migrating it and applying the configuration (ROLE=api)`);
  const api = await startService({
    mode: 'child',
    databaseUrl: template.url,
    configFile,
    cpuProfileDir: undefined,
    env: { ...env, ROLE: 'api' },
  });
  await api.stop();
  const client = new pg.Client({ connectionString: template.url });
  await client.connect();
  try {
    progress(`seeding ${settings.relinks.toLocaleString('en')} due relinks`);
    const seededAt = new Date(Math.floor(Date.now() / 1000) * 1000);
    // A day short of the retention: no seeded event comes of age for the purge during the run.
    const eventsSince = new Date(seededAt.getTime() - (eventRetentionDays - 1) * DAY_MS);
    const seed = await seedDrainData(client, { ...settings, seededAt, eventsSince }, progress);
    progress(
      `seeded in ${(seed.freshSeconds + seed.relinkSeconds).toFixed(1)} s, vacuum analyze ` +
        `${seed.vacuumSeconds.toFixed(1)} s, ${seed.databaseGiB.toFixed(2)} GiB`,
    );
    return { seed, postgres: await postgresVersion(client) };
  } finally {
    await client.end();
  }
}

/**
 * Runs one scenario on a fresh copy of the template, undoing its children, client and database
 * when it ends (and at the bench's end, should it be interrupted).
 */
async function inScene(
  context: Context,
  name: string,
  scenario: (scene: Scene) => Promise<ScenarioResult>,
): Promise<ScenarioResult> {
  const cleanup = new Cleanup();
  context.cleanup.add(`clean up "${name}"`, () => cleanup.runAll());
  try {
    progress(`${name}: copying the seeded database`);
    const copyStart = performance.now();
    const database = await createBenchDatabase(context.settings.serverUrl, context.template);
    cleanup.add(`drop database ${database.name}`, database.drop);
    const copySeconds = (performance.now() - copyStart) / 1000;
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    cleanup.add('close the admin connection', () => client.end());
    await prepareSession(client);
    return await scenario({ context, database, client, cleanup, copySeconds });
  } finally {
    await cleanup.runAll();
  }
}

async function workersOnly(scene: Scene, name: string, workers: number): Promise<ScenarioResult> {
  const drain = await drainWithWorkers(scene, workers);
  const check = await verifyDrain(scene.client, scene.context.seed, 0);
  return scenarioResult(scene, name, drain, check, undefined);
}

/**
 * The steady link load against a ROLE=api child: a warm-up, the baseline without a worker, then
 * the same load while one worker drains, in windows until the drain has ended.
 */
async function apiDuringDrain(scene: Scene, name: string): Promise<ScenarioResult> {
  const { settings } = scene.context;
  progress(`${name}: starting the API (ROLE=api)`);
  const api = await startService({
    mode: 'child',
    databaseUrl: scene.database.url,
    configFile: scene.context.configFile,
    cpuProfileDir: undefined,
    env: { ...scene.context.env, ROLE: 'api' },
  });
  scene.cleanup.add('stop the API', api.stop);
  const slots = new LinkSlots([LINK_PROGRAM], settings.freshCustomers);
  const paced = (seconds: number) =>
    runPacedLinks({ address: api.address, batchesPerSecond: settings.linkBatchesPerSecond, seconds, slots });
  progress(
    `links at ${settings.linkBatchesPerSecond} batches/s: ${WARM_UP_SECONDS} s untimed, then ${settings.linkSeconds} s`,
  );
  const warmUp = await paced(WARM_UP_SECONDS);
  const baseline = await paced(settings.linkSeconds);
  progress(`before the worker: link p99 ${latencyOf(baseline.batches, baseline.worstLagMs).p99Ms.toFixed(1)} ms`);

  let draining = true;
  const load = linksWhile({
    address: api.address,
    batchesPerSecond: settings.linkBatchesPerSecond,
    slots,
    running: () => draining,
  });
  let drain: Drained;
  try {
    drain = await drainWithWorkers(scene, 1, api);
  } finally {
    draining = false;
  }
  const during = await load;
  const all = [...warmUp.batches, ...baseline.batches, ...during.batches];
  const links = await linkResults(scene.client, drain.timing, {
    batchesPerSecond: settings.linkBatchesPerSecond,
    baseline: latencyOf(baseline.batches, baseline.worstLagMs),
    during: during.batches,
    worstSendLagMs: during.worstSendLagMs,
    all: latencyOf(all, Math.max(warmUp.worstLagMs, baseline.worstLagMs, during.worstSendLagMs)),
  });
  const check = await verifyDrain(scene.client, scene.context.seed, links.memberships.linked);
  return scenarioResult(scene, name, drain, check, links);
}

/** The drain's share of the load (batches sent from the worker's /ready to the drain's end), and the link count. */
async function linkResults(
  client: pg.Client,
  timing: DrainTiming,
  runs: Pick<LinksDuringDrain, 'batchesPerSecond' | 'baseline' | 'all'> & {
    during: PacedBatch[];
    worstSendLagMs: number;
  },
): Promise<LinksDuringDrain> {
  const end = timing.drainedAtMs ?? Number.POSITIVE_INFINITY;
  const inDrain = runs.during.filter((b) => b.sentAtMs >= timing.startedAtMs && b.sentAtMs <= end);
  const { rows } = await client.query<{ linked: string }>(
    `select count(*) as linked from memberships m join partner_programs p on p.id = m.partner_program_id
     where p.name = $1`,
    [LINK_PROGRAM],
  );
  return {
    batchesPerSecond: runs.batchesPerSecond,
    baseline: runs.baseline,
    duringDrain: latencyOf(inDrain, runs.worstSendLagMs),
    all: runs.all,
    memberships: { linked: Number(rows[0]!.linked), expected: runs.all.batches * BATCH_SIZE },
  };
}

interface Drained {
  workers: Worker[];
  timing: DrainTiming;
  cpu: CpuUse;
  /** Relinks each worker committed. */
  split: number[];
}

/**
 * Starts the workers, times the drain to its end, counts what each worker committed and stops
 * them, so that the checks see the rows as they stay (also after a timeout).
 */
async function drainWithWorkers(scene: Scene, count: number, api?: RunningService): Promise<Drained> {
  const { settings } = scene.context;
  progress(`${count} worker${count > 1 ? 's' : ''} (ROLE=worker) starting`);
  const workers = await startWorkers(count, {
    databaseUrl: scene.database.url,
    configFile: scene.context.configFile,
    env: scene.context.env,
  });
  for (const [index, worker] of workers.entries()) scene.cleanup.add(`stop worker ${index + 1}`, worker.service.stop);
  const cpuSeconds = () => sumDefined(workers.map((w) => w.service.cpuSeconds()));
  const cpu = measureCpu(cpuSeconds);
  const timing = await watchDrain({
    client: scene.client,
    workers,
    total: settings.relinks,
    timeoutSeconds: settings.timeoutSeconds,
    progress,
  });
  const cpuUse = cpu();
  const gone = api?.exitReason();
  if (gone) throw new Error(`the API ${gone} during the drain`);
  progress(
    timing.complete
      ? `drained in ${timing.seconds.toFixed(2)} s: ${(settings.relinks / timing.seconds).toFixed(0)} relinks/s`
      : `NOT drained within ${settings.timeoutSeconds} s`,
  );
  return { workers, timing, cpu: cpuUse, split: await splitAndStop(workers) };
}

async function splitAndStop(workers: readonly Worker[]): Promise<number[]> {
  // A batch's counter moves once its commit has been answered, a moment after a poll can see it.
  await new Promise((resolve) => setTimeout(resolve, 250));
  const split = await Promise.all(workers.map(relinksActivated));
  await Promise.all(workers.map((w) => w.service.stop()));
  return split;
}

function scenarioResult(
  scene: Scene,
  name: string,
  drain: Drained,
  check: ScenarioResult['check'],
  links: LinksDuringDrain | undefined,
): ScenarioResult {
  const { relinks } = scene.context.settings;
  const { timing, workers, split } = drain;
  const result = {
    name,
    workers: workers.length,
    copySeconds: scene.copySeconds,
    workerStartSeconds: Math.max(...workers.map((w) => (w.readyAtMs - w.spawnedAtMs) / 1000)),
    firstActivationSeconds:
      timing.firstActivationAtMs === undefined ? undefined : (timing.firstActivationAtMs - timing.startedAtMs) / 1000,
    drainSeconds: timing.seconds,
    relinksPerSecond: timing.complete ? relinks / timing.seconds : 0,
    complete: timing.complete,
    split,
    cpu: drain.cpu,
    check,
    links,
  };
  const verified = scenarioVerified(result, relinks);
  progress(`${name}: split ${split.join(' / ')}; checks ${verified ? 'ok' : 'FAILED'}`);
  return { ...result, verified };
}

function sumDefined(values: Array<number | undefined>): number | undefined {
  return values.some((v) => v === undefined) ? undefined : values.reduce<number>((a, b) => a + b!, 0);
}

function progress(message: string): void {
  console.error(`[bench drain] ${message}`);
}

const settings = readDrainSettings(process.env);
await withCleanup(progress, (cleanup) => runBench(settings, cleanup));
