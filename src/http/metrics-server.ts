import Fastify, { type FastifyBaseLogger } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { App } from './app-instance.js';
import { ErrorEnvelopeSchema, StatusSchema } from './envelope.js';
import { registerErrorHandling } from './errors.js';
import { metricsRoute, timeRequests, type Metrics } from './metrics.js';
import { healthRoutes } from './routes/health.js';

export interface MetricsServerDependencies {
  metrics: Metrics;
  /** METRICS_TOKEN. */
  token: string | undefined;
  /** Resolves when the database answers (`/ready`). */
  ready: () => Promise<void>;
  logger: FastifyBaseLogger;
}

/**
 * The listener of METRICS_PORT: `/metrics`, `/health` and `/ready` and nothing else, so that a
 * `worker` process, which serves no API, can be scraped and probed; it never listens itself.
 */
export async function buildMetricsServer({ metrics, token, ready, logger }: MetricsServerDependencies): Promise<App> {
  const app = Fastify({
    loggerInstance: logger,
    return503OnClosing: false,
  }).withTypeProvider<TypeBoxTypeProvider>() as App;
  app.addSchema(StatusSchema);
  app.addSchema(ErrorEnvelopeSchema);
  registerErrorHandling(app);
  timeRequests(app, metrics);
  healthRoutes(app, { ready });
  metricsRoute(app, metrics, token);
  await app.ready();
  return app;
}
