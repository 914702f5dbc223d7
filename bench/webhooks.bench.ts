/**
 * Webhooks benchmark: `npm run bench:webhooks` (and the second part of `npm run bench`). See
 * bench/README.md, "Webhooks", for what it measures and its settings (BENCH_WEBHOOK_*).
 *
 * Two children on one bench database: the API (ROLE=api: HTTP only, so its throughput is the
 * request path with the outbox write) and, from the drain on, a delivery worker (ROLE=worker),
 * as a deployment that separates them runs. Every figure is from this one run, on one host.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import pg from 'pg';
import { LinkSlots } from './lib/batches.js';
import {
  citusVersion,
  countMemberships,
  createBenchDatabase,
  ORG_ID,
  postgresVersion,
  seedCustomers,
} from './lib/bench-database.js';
import { withCleanup, type Cleanup } from './lib/cleanup.js';
import { measureHttpLevel, runLinkRequests } from './lib/http-load.js';
import { describeMachine, hostBusyBefore, measureCpu } from './lib/machine.js';
import { percentile } from './lib/measurement.js';
import { runPacedLinks } from './lib/paced-load.js';
import { HTTP_PROGRAMS, RAW_SQL_PROGRAMS, startService, writeConfigFile, type RunningService } from './lib/service.js';
import { BATCH_SIZE, readSettings, type BenchSettings } from './lib/settings.js';
import {
  formatWebhookReport,
  GOALS,
  linkRunVerified,
  type DrainResult,
  type LatencyResult,
  type LinkRun,
  type Percentiles,
  type WebhookReport,
} from './lib/webhook-report.js';
import { epochMs, WebhookReceiver, type Arrival } from './lib/webhook-receiver.js';
import { readWebhookSettings, type WebhookBenchSettings } from './lib/webhook-settings.js';

const RESULTS = new URL('./results/', import.meta.url);
/** Throughput runs, plus one share of customers kept for the top-up and the latency run. */
const LINK_RUNS = 4;
const RECORD_TIMEOUT_MS = 15_000;
const WARM_UP_BATCHES = 300;

interface Context {
  settings: BenchSettings;
  ws: WebhookBenchSettings;
  admin: pg.Client;
  api: RunningService;
  adminToken: string;
  slots: LinkSlots<string>;
  receiver: WebhookReceiver;
}

async function runBench(settings: BenchSettings, ws: WebhookBenchSettings, cleanup: Cleanup): Promise<void> {
  if (settings.serverMode !== 'child') progress('BENCH_SERVER is ignored here: the API and the worker are children');
  const database = await createBenchDatabase(settings.serverUrl);
  cleanup.add(`drop database ${database.name}`, database.drop);
  const configFile = writeConfigFile();
  cleanup.add('remove the config file', configFile.remove);
  const receiver = await WebhookReceiver.start();
  cleanup.add('close the receiver', () => receiver.close());

  // Both children open the same sealed secrets: one key for the run, and an admin token for the API.
  const adminToken = randomBytes(24).toString('hex');
  const sharedEnv = { SECRETS_KEY: randomBytes(32).toString('hex'), ADMIN_TOKEN: adminToken };
  const cpuProfileDir = settings.cpuProfile ? new URL('.', RESULTS).pathname : undefined;
  const childOptions = {
    mode: 'child' as const,
    databaseUrl: database.url,
    configFile: configFile.path,
    cpuProfileDir,
  };

  progress(`database ${database.name}; starting the API (ROLE=api)`);
  const api = await startService({ ...childOptions, env: { ...sharedEnv, ROLE: 'api' } });
  cleanup.add('stop the API', api.stop);

  const admin = new pg.Client({ connectionString: database.url });
  await admin.connect();
  cleanup.add('close the admin connection', () => admin.end());

  const seedStart = performance.now();
  await seedCustomers(admin, settings.customers);
  progress(`seeded ${settings.customers} customers in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`);

  // No raw SQL side here: every declared EXTERNAL program takes HTTP links, twice the link bench's room.
  const slots = new LinkSlots([...HTTP_PROGRAMS, ...RAW_SQL_PROGRAMS], settings.customers);
  const context: Context = { settings, ws, admin, api, adminToken, slots, receiver };

  const hostBusyBeforePercent = await hostBusyBefore(progress);

  // A fresh service and database run the first seconds slower (JIT, caches, the new tables'
  // first pages): without this untimed load the first baseline run came out 10-20 % low.
  progress(`warming up: ${WARM_UP_BATCHES} untimed link batches`);
  const warmUp = await runLinkRequests(api.address, ws.connections, WARM_UP_BATCHES, slots);
  if (warmUp.ok !== WARM_UP_BATCHES) throw new Error(`the warm-up failed: ${warmUp.firstFailure ?? 'errors'}`);

  // 1a. No subscription: the baseline (the events rows are written all the same).
  const noSubscription = await linkRun(context, 'no subscription', undefined, LINK_RUNS + 1);

  // 1b. One `*` subscription, no worker running: the outbox's write cost alone; leaves the backlog.
  const loadPath = '/load';
  const loadSecret = await putSubscription(context, 'bench-load', receiver.url(loadPath));
  const workerStopped = await linkRun(context, '* subscription, worker stopped', undefined, LINK_RUNS);

  // 2. Drain: the leftovers of 1b, topped up to the backlog asked for, to a ROLE=worker child.
  let pending = await pendingDeliveries(admin);
  if (pending < ws.backlog) {
    const batches = Math.ceil((ws.backlog - pending) / BATCH_SIZE);
    progress(`topping the backlog up from ${pending} with ${batches} link batches`);
    const topUp = await runLinkRequests(api.address, ws.connections, batches, slots);
    if (topUp.ok !== batches) throw new Error(`topping up the backlog failed: ${topUp.firstFailure ?? 'errors'}`);
    pending = await pendingDeliveries(admin);
  }
  progress(`${pending} deliveries pending; timing the first ${ws.backlog}: starting the worker (ROLE=worker)`);
  const spawnedAt = epochMs();
  const worker = await startService({
    ...childOptions,
    env: { ...sharedEnv, ROLE: 'worker' },
    isReady: () => workerListening(admin),
  });
  cleanup.add('stop the worker', worker.stop);
  const drain = await measureDrain(context, worker, loadPath, pending, spawnedAt);
  progress(
    `drain: ${drain.timed} of ${drain.pending} in ${drain.seconds.toFixed(2)} s, ${drain.deliveriesPerSecond.toFixed(0)}/s`,
  );

  // 1c. The same subscription with the worker delivering, on the same cores.
  const workerDelivering = await linkRun(context, '* subscription, worker delivering', worker, LINK_RUNS - 1);
  // What the worker could not keep up with goes with the subscription (DELETE cancels it).
  await deleteSubscription(context, 'bench-load');

  // 1d. No subscription again: how far the baseline drifted over the section (a noisy host).
  const noSubscriptionAgain = await linkRun(context, 'no subscription (again)', worker, LINK_RUNS - 2);

  // 3. Latency at a steady rate, worker running, on a fresh subscription.
  const latencyPath = '/latency';
  const latencySecret = await putSubscription(
    context,
    'bench-latency',
    receiver.url(latencyPath, { recordArrivals: true }),
  );
  const latency = await measureLatency(context, worker, latencyPath);

  const loadCheck = receiver.verifySample(loadPath, loadSecret);
  const latencyCheck = receiver.verifySample(latencyPath, latencySecret);
  const signatures = {
    checked: loadCheck.checked + latencyCheck.checked,
    valid: loadCheck.valid + latencyCheck.valid,
    firstError: loadCheck.firstError ?? latencyCheck.firstError,
  };

  const baseline = [noSubscription, noSubscriptionAgain].map((r) => r.measurement?.linksPerSecond);
  const baselineLinksPerSecond =
    baseline[0] !== undefined && baseline[1] !== undefined ? (baseline[0] + baseline[1]) / 2 : undefined;
  const ratio = (run: LinkRun) =>
    run.measurement && baselineLinksPerSecond ? run.measurement.linksPerSecond / baselineLinksPerSecond : undefined;
  const workerDeliveringRatio = ratio(workerDelivering);
  const costPercent = workerDeliveringRatio === undefined ? undefined : (1 - workerDeliveringRatio) * 100;
  const runs = [noSubscription, workerStopped, workerDelivering, noSubscriptionAgain];

  const report: WebhookReport = {
    finishedAt: new Date().toISOString(),
    machine: describeMachine(await postgresVersion(admin), await citusVersion(admin, database.server)),
    hostBusyBeforePercent,
    settings: {
      ...ws,
      customers: settings.customers,
      batchSize: BATCH_SIZE,
      setup: 'API child with ROLE=api, delivery worker child with ROLE=worker, receiver in the bench process',
    },
    throughput: {
      noSubscription,
      workerStopped,
      workerDelivering,
      noSubscriptionAgain,
      baselineLinksPerSecond,
      baselineSpreadPercent:
        baselineLinksPerSecond && baseline[0] !== undefined && baseline[1] !== undefined
          ? (100 * Math.abs(baseline[0] - baseline[1])) / baselineLinksPerSecond
          : undefined,
      workerStoppedRatio: ratio(workerStopped),
      workerDeliveringRatio,
    },
    drain,
    latency,
    signatures,
    goals: {
      outboxCostPercent: {
        goal: GOALS.outboxCostPercent,
        measured: costPercent,
        met: costPercent !== undefined && costPercent <= GOALS.outboxCostPercent,
      },
      deliveriesPerSecond: {
        goal: GOALS.deliveriesPerSecond,
        measured: drain.deliveriesPerSecond,
        met: drain.complete && drain.deliveriesPerSecond >= GOALS.deliveriesPerSecond,
      },
      p99LatencyMs: {
        goal: GOALS.p99LatencyMs,
        measured: latency.fromCreatedAt.p99Ms,
        met: latency.distinct === latency.expectedEvents && latency.fromCreatedAt.p99Ms <= GOALS.p99LatencyMs,
      },
    },
    verified:
      runs.every(linkRunVerified) &&
      drain.complete &&
      latency.okBatches === latency.batches &&
      latency.distinct === latency.expectedEvents &&
      latency.unmatched === 0 &&
      signatures.checked > 0 &&
      signatures.valid === signatures.checked,
  };
  // Beside the link bench's report of the same `npm run bench`: a Citus run's goes to latest-citus.json.
  const jsonPath = new URL(database.server.kind === 'citus' ? 'latest-citus.json' : 'latest.json', RESULTS);
  writeMergedReport(report, jsonPath);
  console.log(`\n${formatWebhookReport(report)}\n\nwritten to ${jsonPath.pathname} (key "webhooks")`);
  if (!report.verified) process.exitCode = 1;
}

/** One throughput run (measureHttpLevel, as the link bench), with the outbox rows it added. */
async function linkRun(
  { ws, admin, api, slots }: Context,
  label: string,
  worker: RunningService | undefined,
  levelsLeft: number,
): Promise<LinkRun> {
  progress(`throughput: ${label}`);
  const before = await outboxRows(admin);
  const subscriptions = await activeSubscriptions(admin);
  const workerCpu = worker ? measureCpu(worker.cpuSeconds) : undefined;
  const measurement = await measureHttpLevel({
    address: api.address,
    connections: ws.connections,
    seconds: ws.secondsPerRun,
    levelsLeft,
    slots,
    countMemberships: () => countMemberships(admin),
    serviceCpuSeconds: api.cpuSeconds,
  });
  const workerCores = workerCpu?.().serviceCores;
  const after = await outboxRows(admin);
  for (const [name, child] of [
    ['API', api],
    ['worker', worker],
  ] as const) {
    const gone = child?.exitReason();
    if (gone) throw new Error(`the ${name} ${gone} during the run "${label}"`);
  }
  const added = measurement?.memberships.added ?? 0;
  const run: LinkRun = {
    label,
    measurement,
    events: after.events - before.events,
    deliveries: after.deliveries - before.deliveries,
    expectedDeliveries: added * subscriptions,
    workerCores,
    pendingAtEnd: await pendingDeliveries(admin),
  };
  progress(
    measurement
      ? `  ${measurement.linksPerSecond.toFixed(0)} links/s, p99 ${measurement.p99Ms.toFixed(1)} ms, ` +
          `deliveries +${run.deliveries}, pending ${run.pendingAtEnd}`
      : '  skipped: too few unused customers left',
  );
  return run;
}

/**
 * Times the worker through the first `ws.backlog` deliveries of the `pending` ones (the
 * throughput run may leave more; the rest are still being delivered during the next run, as
 * they would be): from its LISTEN to the last of them at the receiver, and to the last of them
 * recorded SUCCEEDED.
 */
async function measureDrain(
  { ws, admin, receiver }: Context,
  worker: RunningService,
  path: string,
  pending: number,
  spawnedAt: number,
): Promise<DrainResult> {
  const readyAt = epochMs();
  const timed = Math.min(pending, ws.backlog);
  const cpu = measureCpu(worker.cpuSeconds);
  const complete = await receiver.waitForDistinct(path, timed, ws.drainTimeoutSeconds * 1000);
  const cpuUse = cpu();
  const counts = receiver.counts(path);
  const lastAt = complete ? (counts.lastAtMs ?? epochMs()) : epochMs();
  const recordedAt = complete ? await untilSucceeded(admin, timed) : undefined;
  const seconds = (lastAt - readyAt) / 1000;
  const recordedSeconds = recordedAt === undefined ? undefined : (recordedAt - readyAt) / 1000;
  return {
    pending,
    timed,
    distinct: counts.distinct,
    requests: counts.requests,
    complete,
    workerStartSeconds: (readyAt - spawnedAt) / 1000,
    seconds,
    deliveriesPerSecond: seconds > 0 ? Math.min(counts.distinct, timed) / seconds : 0,
    recordedSeconds,
    recordedPerSecond: recordedSeconds ? timed / recordedSeconds : undefined,
    cpu: cpuUse,
  };
}

async function measureLatency(
  { ws, api, slots, receiver }: Context,
  worker: RunningService,
  path: string,
): Promise<LatencyResult> {
  const batchesPerSecond = ws.eventsPerSecond / BATCH_SIZE;
  progress(`latency: ${ws.eventsPerSecond} events/s (${batchesPerSecond} batches/s) for ${ws.latencySeconds} s`);
  const cpu = measureCpu(worker.cpuSeconds);
  const run = await runPacedLinks({ address: api.address, batchesPerSecond, seconds: ws.latencySeconds, slots });
  const ok = run.batches.filter((b) => b.status === 200);
  const expectedEvents = ok.length * BATCH_SIZE;
  await receiver.waitForDistinct(path, expectedEvents, RECORD_TIMEOUT_MS);
  const cpuUse = cpu();

  const answeredAt = new Map(run.batches.map((b) => [`${b.slot.program}|${b.slot.first}`, b.respondedAtMs]));
  const firstArrivals = new Map<string, Arrival>();
  for (const arrival of receiver.arrivals(path))
    if (!firstArrivals.has(arrival.webhookId)) firstArrivals.set(arrival.webhookId, arrival);
  const fromCreatedAt: number[] = [];
  const fromResponse: number[] = [];
  let unmatched = 0;
  for (const arrival of firstArrivals.values()) {
    fromCreatedAt.push(arrival.arrivedAtMs - arrival.createdAtMs);
    const index = Number(arrival.membershipNumber.replace(/^M-/, ''));
    const responded = answeredAt.get(`${arrival.partnerProgramName}|${index - (index % BATCH_SIZE)}`);
    if (responded === undefined || !Number.isInteger(index)) unmatched += 1;
    else fromResponse.push(arrival.arrivedAtMs - responded);
  }
  const counts = receiver.counts(path);
  unmatched += counts.unreadable;
  const result: LatencyResult = {
    targetEventsPerSecond: ws.eventsPerSecond,
    batches: run.batches.length,
    okBatches: ok.length,
    achievedEventsPerSecond: run.seconds > 0 ? expectedEvents / run.seconds : 0,
    worstSendLagMs: run.worstLagMs,
    link: percentiles(run.batches.map((b) => b.respondedAtMs - b.sentAtMs)),
    expectedEvents,
    distinct: counts.distinct,
    requests: counts.requests,
    fromCreatedAt: percentiles(fromCreatedAt),
    fromResponse: percentiles(fromResponse),
    unmatched,
    cpu: cpuUse,
  };
  progress(
    `  delivered ${result.distinct}/${expectedEvents}; p99 ${result.fromCreatedAt.p99Ms.toFixed(1)} ms from createdAt, ` +
      `${result.fromResponse.p99Ms.toFixed(1)} ms from the response`,
  );
  return result;
}

function percentiles(samples: readonly number[]): Percentiles {
  return {
    p50Ms: percentile(samples, 0.5),
    p99Ms: percentile(samples, 0.99),
    maxMs: samples.reduce((max, value) => Math.max(max, value), samples.length > 0 ? -Infinity : 0),
  };
}

async function putSubscription({ api, adminToken }: Context, name: string, url: string): Promise<string> {
  const response = await fetch(`${api.address}/admin/v1/orgs/${ORG_ID}/webhooks/${name}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ url, events: ['*'] }),
  });
  const body = await response.text();
  if (response.status !== 201 && response.status !== 200)
    throw new Error(`PUT webhook ${name}: HTTP ${response.status}: ${body.slice(0, 300)}`);
  const { secret } = JSON.parse(body) as { secret?: unknown };
  if (typeof secret !== 'string') throw new Error(`PUT webhook ${name}: no secret in the answer`);
  return secret;
}

async function deleteSubscription({ api, adminToken }: Context, name: string): Promise<void> {
  const response = await fetch(`${api.address}/admin/v1/orgs/${ORG_ID}/webhooks/${name}`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${adminToken}` },
  });
  if (response.status !== 204) throw new Error(`DELETE webhook ${name}: HTTP ${response.status}`);
}

async function outboxRows(admin: pg.Client): Promise<{ events: number; deliveries: number }> {
  const { rows } = await admin.query<{ events: string; deliveries: string }>(
    'select (select count(*) from events) as events, (select count(*) from deliveries) as deliveries',
  );
  return { events: Number(rows[0]!.events), deliveries: Number(rows[0]!.deliveries) };
}

async function activeSubscriptions(admin: pg.Client): Promise<number> {
  const { rows } = await admin.query<{ n: string }>('select count(*) as n from webhook_subscriptions where active');
  return Number(rows[0]!.n);
}

async function pendingDeliveries(admin: pg.Client): Promise<number> {
  const { rows } = await admin.query<{ n: string }>(`select count(*) as n from deliveries where status = 'PENDING'`);
  return Number(rows[0]!.n);
}

/** epochMs() once `count` deliveries are recorded SUCCEEDED, or undefined after RECORD_TIMEOUT_MS. */
async function untilSucceeded(admin: pg.Client, count: number): Promise<number | undefined> {
  const deadline = performance.now() + RECORD_TIMEOUT_MS;
  while (performance.now() < deadline) {
    const { rows } = await admin.query<{ n: string }>(
      `select count(*) as n from deliveries where status = 'SUCCEEDED'`,
    );
    if (Number(rows[0]!.n) >= count) return epochMs();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return undefined;
}

/**
 * The worker serves no HTTP: it is ready once its delivery loop LISTENs, which it does right
 * before its first claim (src/jobs/delivery-worker.ts). The LISTEN connection runs nothing else,
 * so pg_stat_activity shows it as that connection's last statement.
 */
async function workerListening(admin: pg.Client): Promise<boolean> {
  const { rows } = await admin.query<{ listening: boolean }>(
    `select exists (select 1 from pg_stat_activity
       where datname = current_database() and pid <> pg_backend_pid() and query ilike 'listen %') as listening`,
  );
  return rows[0]!.listening;
}

/**
 * latest.json holds the last link bench's report; this section's goes under "webhooks", so that
 * after `npm run bench` the file has both parts of one run (each with its own finishedAt).
 */
function writeMergedReport(report: WebhookReport, path: URL): void {
  let existing: Record<string, unknown> = {};
  if (existsSync(path)) {
    try {
      existing = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    } catch {
      progress(`warning: ${path.pathname} was not JSON; replacing it`);
    }
  }
  mkdirSync(new URL('.', path), { recursive: true });
  writeFileSync(path, `${JSON.stringify({ ...existing, webhooks: report }, null, 2)}\n`);
}

function progress(message: string): void {
  console.error(`[bench webhooks] ${message}`);
}

const settings = readSettings(process.env);
const ws = readWebhookSettings(process.env);
await withCleanup(progress, (cleanup) => runBench(settings, ws, cleanup));
