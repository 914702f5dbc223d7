import { BATCH_SIZE, positiveInteger } from './settings.js';

/** The webhooks section's own settings (bench/README.md, "Webhooks"); each checked up front. */
export interface WebhookBenchSettings {
  /** HTTP connections of the link load in the throughput runs. */
  connections: number;
  /** Measured seconds of each throughput run. */
  secondsPerRun: number;
  /** Deliveries the worker drains at least (the throughput run's leftovers, topped up with link batches). */
  backlog: number;
  /** Linked customers (= events) per second of the latency run: a multiple of BATCH_SIZE. */
  eventsPerSecond: number;
  latencySeconds: number;
  /** Longest wait for the backlog to be delivered. */
  drainTimeoutSeconds: number;
  /** WEBHOOK_CONCURRENCY as the children get it (the service's default when unset). */
  webhookConcurrency: string;
}

export function readWebhookSettings(env: NodeJS.ProcessEnv): WebhookBenchSettings {
  const eventsPerSecond = positiveInteger('BENCH_WEBHOOK_RATE', env.BENCH_WEBHOOK_RATE ?? '500');
  if (eventsPerSecond % BATCH_SIZE !== 0)
    throw new Error(`BENCH_WEBHOOK_RATE must be a multiple of ${BATCH_SIZE} (got ${eventsPerSecond})`);
  return {
    connections: positiveInteger('BENCH_WEBHOOK_CONNECTIONS', env.BENCH_WEBHOOK_CONNECTIONS ?? '8'),
    secondsPerRun: positiveInteger('BENCH_WEBHOOK_SECONDS', env.BENCH_WEBHOOK_SECONDS ?? '6'),
    backlog: positiveInteger('BENCH_WEBHOOK_BACKLOG', env.BENCH_WEBHOOK_BACKLOG ?? '20000'),
    eventsPerSecond,
    latencySeconds: positiveInteger('BENCH_WEBHOOK_LATENCY_SECONDS', env.BENCH_WEBHOOK_LATENCY_SECONDS ?? '10'),
    drainTimeoutSeconds: positiveInteger('BENCH_WEBHOOK_DRAIN_TIMEOUT', env.BENCH_WEBHOOK_DRAIN_TIMEOUT ?? '60'),
    webhookConcurrency: env.WEBHOOK_CONCURRENCY?.trim() || '16 (default)',
  };
}
