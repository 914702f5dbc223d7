import type { FastifyBaseLogger } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { Type } from 'typebox';
import { EVENT_NAMES, type EventName } from '../model/event.js';
import {
  DELIVERY_OUTCOMES,
  TRANSITION_KINDS,
  type BatchEndpoint,
  type DeliveryOutcome,
  type Telemetry,
  type TransitionKind,
} from '../domain/telemetry.js';
import type { App } from './app-instance.js';
import { requireBearerToken } from './bearer-token.js';
import { errorAnswer } from './envelope.js';

export interface MetricsOptions {
  /** PENDING webhook deliveries, read at every scrape (SPEC §2b `webhook_deliveries_pending`). */
  pendingDeliveries: () => Promise<number>;
  /** Where a failed read of the backlog is reported. */
  logger: FastifyBaseLogger;
}

/** Latencies from 1 ms (a cached read) to 10 s (a batch held up by a busy customer). */
const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The route label of a request that matched no route: one series, whatever the URL was. */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * The service's Prometheus metrics (SPEC §2b), in a registry of its own: one per process, made
 * by the composition root and handed to the API, the scheduler and the delivery worker alike
 * (tests build several in one process, so nothing uses prom-client's global registry). The
 * labels are route templates, codes and closed sets, never a URL or an identifier.
 */
export class Metrics implements Telemetry {
  readonly registry = new Registry();
  private readonly requestDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP requests by method, route template (or "unmatched") and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: DURATION_BUCKETS,
    registers: [this.registry],
  });
  private readonly entriesTotal = new Counter({
    name: 'partner_program_entries_total',
    help: 'Program entries of processed link, update and delink batches, by the code each was answered',
    labelNames: ['endpoint', 'code'] as const,
    registers: [this.registry],
  });
  private readonly transitionsTotal = new Counter({
    name: 'scheduler_transitions_total',
    help: 'Changes the scheduler committed, by kind',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  private readonly attemptsTotal = new Counter({
    name: 'webhook_delivery_attempts_total',
    help: 'Webhook delivery attempts by outcome (succeeded: a 2xx in time; failed: anything else)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  private readonly eventsTotal = new Counter({
    name: 'events_created_total',
    help: 'Events written by committed changes, by event name',
    labelNames: ['event'] as const,
    registers: [this.registry],
  });

  constructor({ pendingDeliveries, logger }: MetricsOptions) {
    collectDefaultMetrics({ register: this.registry });
    // Every series of a closed set exists from the start, so that rate() sees its first increase.
    for (const kind of TRANSITION_KINDS) this.transitionsTotal.inc({ kind }, 0);
    for (const outcome of DELIVERY_OUTCOMES) this.attemptsTotal.inc({ outcome }, 0);
    for (const event of EVENT_NAMES) this.eventsTotal.inc({ event }, 0);
    new Gauge({
      name: 'webhook_deliveries_pending',
      help: 'Webhook deliveries still PENDING in the database (every org); absent when the database did not answer',
      registers: [this.registry],
      async collect() {
        try {
          this.set(await pendingDeliveries());
        } catch (error) {
          // A scrape still answers with everything else; the gauge has no sample rather than a stale one.
          this.remove();
          logger.warn({ err: error }, 'could not count pending webhook deliveries for the metrics');
        }
      },
    });
  }

  observeRequest(method: string, route: string, statusCode: number, seconds: number): void {
    this.requestDuration.observe({ method, route, status_code: String(statusCode) }, seconds);
  }

  entries(endpoint: BatchEndpoint, code: number, count: number): void {
    this.entriesTotal.inc({ endpoint, code: String(code) }, count);
  }

  transitions(kind: TransitionKind, count: number): void {
    this.transitionsTotal.inc({ kind }, count);
  }

  deliveryAttempt(outcome: DeliveryOutcome): void {
    this.attemptsTotal.inc({ outcome });
  }

  eventsCreated(name: EventName, count: number): void {
    this.eventsTotal.inc({ event: name }, count);
  }
}

/**
 * Times every request of `app`: its route template as the label, `unmatched` for a 404 or 405.
 * Call it before any route or plugin is registered, so that its hook sees them all.
 */
export function timeRequests(app: App, metrics: Metrics): void {
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? UNMATCHED_ROUTE;
    metrics.observeRequest(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
  });
}

/** `GET /metrics`: open, or with `token` set only to `Authorization: Bearer <token>`. */
export function metricsRoute(app: App, metrics: Metrics, token: string | undefined): void {
  app.get(
    '/metrics',
    {
      ...(token
        ? {
            onRequest: requireBearerToken(token, {
              realm: 'metrics',
              message: 'Authentication failed: send the metrics token as "Authorization: Bearer <token>"',
            }),
          }
        : {}),
      schema: {
        operationId: 'getMetrics',
        tags: ['ops'],
        summary: 'Prometheus metrics',
        description:
          'The Prometheus text format (0.0.4): request latency by route template, program entries by endpoint and code, scheduler transitions, webhook attempts and backlog, events created, and the Node.js process metrics. Open unless the METRICS_TOKEN setting is set; then it needs that token as a Bearer token.',
        security: token ? [{ metricsToken: [] }] : [],
        response: {
          200: {
            description: 'The metrics',
            content: { 'text/plain': { schema: Type.String() } },
          },
          ...(token ? { 401: errorAnswer('No metrics token, or a wrong one') } : {}),
        },
      },
    },
    async (_request, reply) => {
      const text = await metrics.registry.metrics();
      return reply.type(metrics.registry.contentType).send(text);
    },
  );
}
