import { freePort, startService, type RunningService } from './service.js';
import { epochMs } from './webhook-receiver.js';

/** A ROLE=worker child: it serves no API, so it is probed and read through its METRICS_PORT. */
export interface Worker {
  service: RunningService;
  metricsAddress: string;
  spawnedAtMs: number;
  /** epochMs when its /ready first answered: its metrics listener is up and the scheduler's catch-up starts. */
  readyAtMs: number;
}

export interface WorkerOptions {
  databaseUrl: string;
  configFile: string;
  /** Over the bench's environment; ROLE, METRICS_PORT and METRICS_TOKEN are set here. */
  env: Record<string, string>;
}

/**
 * Starts `count` workers at once, as a deployment starting its instances together would. When one
 * fails to start, those that did are stopped before the error goes on.
 */
export async function startWorkers(count: number, options: WorkerOptions): Promise<Worker[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    const port = await freePort();
    if (!ports.includes(port)) ports.push(port);
  }
  const started = await Promise.allSettled(ports.map((port) => startWorker(port, options)));
  const workers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = started.find((s) => s.status === 'rejected');
  if (!failed) return workers;
  await Promise.all(workers.map((w) => w.service.stop()));
  throw failed.reason;
}

async function startWorker(port: number, options: WorkerOptions): Promise<Worker> {
  const metricsAddress = `http://127.0.0.1:${port}`;
  const spawnedAtMs = epochMs();
  let readyAtMs: number | undefined;
  const service = await startService({
    mode: 'child',
    databaseUrl: options.databaseUrl,
    configFile: options.configFile,
    cpuProfileDir: undefined,
    // An empty METRICS_TOKEN leaves /metrics open, whatever the bench's environment says.
    env: { ...options.env, ROLE: 'worker', METRICS_PORT: String(port), METRICS_TOKEN: '' },
    isReady: async () => {
      const ready = await fetch(`${metricsAddress}/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) readyAtMs = epochMs();
      return ready;
    },
  });
  return { service, metricsAddress, spawnedAtMs, readyAtMs: readyAtMs! };
}

/**
 * Relinks this worker has activated and committed, from its own counter
 * (`scheduler_transitions_total{kind="relink_activated"}`): cheap to read while it drains, and
 * it tells the workers' shares apart, which the rows do not.
 */
export async function relinksActivated(worker: Worker): Promise<number> {
  const response = await fetch(`${worker.metricsAddress}/metrics`);
  if (!response.ok) throw new Error(`GET ${worker.metricsAddress}/metrics answered ${response.status}`);
  const match = /^scheduler_transitions_total\{kind="relink_activated"\} (\S+)$/m.exec(await response.text());
  if (!match) throw new Error(`${worker.metricsAddress}/metrics has no relink_activated counter`);
  return Number(match[1]);
}

/** Why a worker is no longer running, if one is not. */
export function workerGone(workers: readonly Worker[]): string | undefined {
  for (const [index, worker] of workers.entries()) {
    const reason = worker.service.exitReason();
    if (reason) return `worker ${index + 1} ${reason}`;
  }
  return undefined;
}
