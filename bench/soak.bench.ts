/**
 * Memory soak: `npm run bench:soak`. The service child's resident memory at full-speed link load,
 * then through a long paced load at half that rate: does it stay under its budget, and does it
 * stop growing? See bench/README.md, "Memory soak" (BENCH_SOAK_*).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import pg from 'pg';
import { LinkSlots } from './lib/batches.js';
import { countMemberships, createBenchDatabase, postgresVersion, seedCustomers } from './lib/bench-database.js';
import { withCleanup, type Cleanup } from './lib/cleanup.js';
import { runLinkRequests, sizedRuns, sum } from './lib/http-load.js';
import { describeMachine, hostBusyBefore, measureCpu } from './lib/machine.js';
import { percentile, rates } from './lib/measurement.js';
import { runPacedLinks } from './lib/paced-load.js';
import { HTTP_PROGRAMS, startService, writeConfigFile, type RunningService } from './lib/service.js';
import { BATCH_SIZE } from './lib/settings.js';
import { readProcMemory, sampleEvery, scrapeHeap, type HeapReading, type Sample } from './lib/soak-memory.js';
import {
  formatSoakReport,
  MARK_WINDOW_SECONDS,
  phaseVerified,
  soakGoals,
  soakGrowth,
  soakMarks,
  summarizeRss,
  trendMbPerMinute,
  type PeakPhase,
  type RssSample,
  type SoakPhase,
  type SoakReport,
} from './lib/soak-report.js';
import { buildService } from './lib/soak-build.js';
import { readSoakSettings, type SoakSettings } from './lib/soak-settings.js';

const RESULTS = new URL('./results/', import.meta.url);
/** VmRSS every 250 ms at peak (a short phase, where spikes matter), every second through the soak. */
const RSS_INTERVAL_MS = { peak: 250, soak: 1_000 } as const;
/** A scrape renders every metric in the service's process: rare enough to cost it nothing measurable. */
const SCRAPE_INTERVAL_MS = 10_000;
/** A fresh service and database are slower in their first seconds (JIT, caches, the tables' first pages). */
const WARM_UP_BATCHES = 200;
/** Headroom on the customers a failed run asks for: the next run's peak may come out faster. */
const CUSTOMER_MARGIN = 1.2;
/** The peak rate assumed when too few customers are seeded to measure one (the link bench's best on 2 cores). */
const ASSUMED_PEAK_BATCHES_PER_SECOND = 120;
const PROGRESS_INTERVAL_MS = 30_000;

interface Context {
  settings: SoakSettings;
  service: RunningService;
  pid: number;
  admin: pg.Client;
  slots: LinkSlots<string>;
  metricsToken: string | undefined;
}

interface Measured<Phase> {
  phase: Phase;
  rss: RssSample[];
  heap: Array<Sample<HeapReading>>;
}

async function runBench(settings: SoakSettings, cleanup: Cleanup): Promise<void> {
  const database = await createBenchDatabase(settings.serverUrl);
  cleanup.add(`drop database ${database.name}`, database.drop);
  const configFile = writeConfigFile();
  cleanup.add('remove the config file', configFile.remove);

  const build = settings.compiled ? buildService() : undefined;
  if (build) cleanup.add('remove the build', build.remove);
  const form = build ? 'compiled' : 'sources through tsx';
  progress(`database ${database.name}; starting the service (child, ${form}, ROLE=${settings.role})`);
  const service = await startService({
    mode: 'child',
    databaseUrl: database.url,
    configFile: configFile.path,
    cpuProfileDir: undefined,
    compiledCli: build?.cli,
    env: { ROLE: settings.role },
  });
  cleanup.add('stop the service', service.stop);
  const pid = service.pid;
  if (pid === undefined || process.platform !== 'linux')
    throw new Error('the soak reads the service memory from /proc: Linux and a child process only');

  const admin = new pg.Client({ connectionString: database.url });
  await admin.connect();
  cleanup.add('close the admin connection', () => admin.end());

  const seedStart = performance.now();
  await seedCustomers(admin, settings.customers);
  progress(`seeded ${settings.customers} customers in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`);
  const slots = new LinkSlots(HTTP_PROGRAMS, settings.customers);
  progress(`the customers carry a peak of up to ${Math.floor(peakCapacity(settings, slots) * BATCH_SIZE)} links/s`);

  const context: Context = { settings, service, pid, admin, slots, metricsToken: process.env.METRICS_TOKEN?.trim() };
  const hostBusyBeforePercent = await hostBusyBefore(progress);
  const startupHwmMb = readProcMemory(pid)?.hwmMb;

  const peak = await peakPhase(context);
  stillRunning(service, 'peak phase');
  progress(`peak: ${peak.phase.linksPerSecond.toFixed(0)} links/s, VmRSS max ${peak.phase.rss.maxMb.toFixed(1)} MB`);
  const soak = await soakPhase(context, peak.phase.batchesPerSecond / 2);
  stillRunning(service, 'soak');

  const report: SoakReport = {
    finishedAt: new Date().toISOString(),
    machine: describeMachine(await postgresVersion(admin)),
    hostBusyBeforePercent,
    settings: {
      connections: settings.connections,
      peakSeconds: settings.peakSeconds,
      soakSeconds: settings.soakSeconds,
      customers: settings.customers,
      role: settings.role,
      compiled: settings.compiled,
      batchSize: BATCH_SIZE,
      programs: [...HTTP_PROGRAMS],
      rssIntervalMs: RSS_INTERVAL_MS,
      scrapeIntervalMs: SCRAPE_INTERVAL_MS,
      markWindowSeconds: MARK_WINDOW_SECONDS,
    },
    startupHwmMb,
    peak: peak.phase,
    soak: soak.phase,
    goals: soakGoals(peak.phase, soak.phase),
    verified: phaseVerified(peak.phase) && phaseVerified(soak.phase),
    samples: { peakRss: peak.rss, soakRss: soak.rss, peakHeap: peak.heap, soakHeap: soak.heap },
  };
  const jsonPath = new URL('soak.json', RESULTS);
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(jsonPath, `${JSON.stringify(report, roundedMb, 2)}\n`);
  console.log(`\n${formatSoakReport(report)}\n\nwritten to ${jsonPath.pathname}`);
  if (!report.verified) process.exitCode = 1;
}

/**
 * Batches per second the peak phase may reach with the soak after it at half that rate still
 * served: a peak rate P uses P × peak seconds, the soak P / 2 × soak seconds.
 */
function peakCapacity({ peakSeconds, soakSeconds }: SoakSettings, slots: LinkSlots<string>): number {
  return (slots.remaining - WARM_UP_BATCHES) / (peakSeconds + soakSeconds / 2);
}

/** Full speed: an untimed warm-up, then fixed-amount autocannon runs for the peak seconds, RSS sampled throughout. */
async function peakPhase(context: Context): Promise<Measured<PeakPhase>> {
  const { settings, service, pid, admin, slots } = context;
  const { connections, peakSeconds } = settings;
  const budget = Math.floor(peakCapacity(settings, slots) * peakSeconds);
  if (budget < connections)
    throw new Error(
      `too few customers for a peak phase: ${customersNeeded(settings, ASSUMED_PEAK_BATCHES_PER_SECOND)}`,
    );
  progress(`peak: ${WARM_UP_BATCHES} untimed batches, then ${peakSeconds} s at ${connections} connections`);

  const before = await countMemberships(admin);
  const stop = startSampling(context, RSS_INTERVAL_MS.peak);
  const sized = await sizedRuns({
    connections,
    seconds: peakSeconds,
    warmUpAmount: WARM_UP_BATCHES,
    available: budget,
    serviceCpuSeconds: service.cpuSeconds,
    run: (amount) => runLinkRequests(service.address, connections, amount, slots),
  });
  const { rss, heap } = await stop();
  const added = (await countMemberships(admin)) - before;

  const all = [sized.warmUp, ...sized.runs];
  const batches = sum(sized.runs, (r) => r.responses);
  const latencies = sized.runs.flatMap((r) => r.latenciesMs);
  const phase: PeakPhase = {
    connections,
    warmUpBatches: WARM_UP_BATCHES,
    batches,
    seconds: sized.elapsed,
    ...rates(batches, sized.elapsed),
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    failed: sum(all, (r) => r.responses - r.ok),
    errors: sum(all, (r) => r.errors),
    firstFailure: all.find((r) => r.firstFailure)?.firstFailure,
    cpu: sized.cpuUse,
    memberships: { added, expected: BATCH_SIZE * sum(all, (r) => r.ok) },
    rss: summarizeRss(rss),
    hwmMb: readProcMemory(pid)?.hwmMb,
  };
  if (sized.capped)
    throw new Error(
      `the customers ran out ${phase.seconds.toFixed(1)} s into the peak phase: ` +
        customersNeeded(settings, phase.batchesPerSecond),
    );
  return { phase, rss, heap };
}

/** Half the peak rate, open loop, for the soak seconds; the marks and the growth from its samples. */
async function soakPhase(context: Context, batchesPerSecond: number): Promise<Measured<SoakPhase>> {
  const { settings, service, pid, admin, slots } = context;
  const needed = Math.round(batchesPerSecond * settings.soakSeconds);
  if (needed > slots.remaining)
    throw new Error(
      `${needed} soak batches, ${slots.remaining} left: ${customersNeeded(settings, 2 * batchesPerSecond)}`,
    );
  progress(`soak: ${batchesPerSecond.toFixed(1)} batches/s for ${settings.soakSeconds} s`);

  const before = await countMemberships(admin);
  const cpu = measureCpu(service.cpuSeconds);
  const stop = startSampling(context, RSS_INTERVAL_MS.soak);
  const ticker = setInterval(
    () => progress(`soak: VmRSS ${readProcMemory(pid)?.rssMb.toFixed(1) ?? '?'} MB`),
    PROGRESS_INTERVAL_MS,
  );
  const run = await runPacedLinks({ address: service.address, batchesPerSecond, seconds: settings.soakSeconds, slots });
  clearInterval(ticker);
  const cpuUse = cpu();
  const { rss, heap } = await stop();
  const added = (await countMemberships(admin)) - before;

  const latencies = run.batches.map((b) => b.respondedAtMs - b.sentAtMs);
  const notOk = run.batches.filter((b) => b.status !== 200);
  const marks = soakMarks(rss, heap, settings.soakSeconds);
  const phase: SoakPhase = {
    targetBatchesPerSecond: batchesPerSecond,
    batches: run.batches.length,
    seconds: run.seconds,
    ...rates(run.batches.length, run.seconds),
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    maxMs: Math.max(...latencies),
    worstLagMs: run.worstLagMs,
    failed: notOk.filter((b) => b.status !== undefined).length,
    errors: notOk.filter((b) => b.status === undefined).length,
    firstFailure: notOk[0] && (notOk[0].status ? `HTTP ${notOk[0].status}` : `no answer: ${notOk[0].error}`),
    cpu: cpuUse,
    memberships: { added, expected: BATCH_SIZE * (run.batches.length - notOk.length) },
    rss: summarizeRss(rss),
    hwmMb: readProcMemory(pid)?.hwmMb,
    marks,
    growth: soakGrowth(marks),
    trendMbPerMinute: trendMbPerMinute(rss, marks[0]!.atSeconds),
  };
  return { phase, rss, heap };
}

/** VmRSS at `rssIntervalMs` and a /metrics scrape every SCRAPE_INTERVAL_MS, from now until the returned stop. */
function startSampling(
  { service, pid, metricsToken }: Context,
  rssIntervalMs: number,
): () => Promise<{ rss: RssSample[]; heap: Array<Sample<HeapReading>> }> {
  const stopRss = sampleEvery(rssIntervalMs, () => {
    const memory = readProcMemory(pid);
    return memory && { rssMb: memory.rssMb };
  });
  const stopHeap = sampleEvery(SCRAPE_INTERVAL_MS, () => scrapeHeap(service.address, metricsToken));
  return async () => ({ rss: await stopRss(), heap: await stopHeap() });
}

/** What to set when the customers do not carry the load, from the peak rate measured (or a guess). */
function customersNeeded({ peakSeconds, soakSeconds }: SoakSettings, peakBatchesPerSecond: number): string {
  const batches = WARM_UP_BATCHES + peakBatchesPerSecond * (peakSeconds + soakSeconds / 2);
  const customers = Math.ceil((batches * CUSTOMER_MARGIN) / HTTP_PROGRAMS.length) * BATCH_SIZE;
  return `set BENCH_SOAK_CUSTOMERS to ${customers} or more (each customer is linked once to each of ${HTTP_PROGRAMS.length} programs)`;
}

function stillRunning(service: RunningService, phase: string): void {
  const gone = service.exitReason();
  if (gone) throw new Error(`the service ${gone} during the ${phase}`);
}

/** Megabytes and seconds to 0.1 in the JSON file: the samples would otherwise carry 15 meaningless digits. */
function roundedMb(key: string, value: unknown): unknown {
  return typeof value === 'number' && (key.endsWith('Mb') || key === 'atSeconds') ? Math.round(value * 10) / 10 : value;
}

function progress(message: string): void {
  console.error(`[bench:soak] ${message}`);
}

await withCleanup(progress, (cleanup) => runBench(readSoakSettings(process.env), cleanup));
