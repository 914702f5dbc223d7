import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import type { Config } from './config.js';
import type { DB } from './db/database.js';
import type { Clock } from './domain/clock.js';
import type { SandboxClock } from './domain/sandbox-clock.js';
import type { SecretBox } from './domain/secrets.js';
import { Authenticator } from './domain/authentication.js';
import { LoginThrottle } from './domain/login-throttle.js';
import { loadSigningKey } from './domain/signing-key.js';
import { pendingDeliveries } from './domain/telemetry.js';
import { bindUseCases } from './domain/use-cases.js';
import type { App } from './http/app-instance.js';
import { registerAuthentication } from './http/auth.js';
import { ErrorEnvelopeSchema, sendError, StatusSchema } from './http/envelope.js';
import {
  answerClientError,
  answerFrameworkError,
  MAX_PARAM_LENGTH,
  refuseConnect,
  registerErrorHandling,
} from './http/errors.js';
import { documentRoute, openapiOptions } from './http/schemas/openapi.js';
import { adminRoutes } from './http/admin/index.js';
import { batchEndpoints } from './http/batch/endpoints.js';
import { healthRoutes } from './http/routes/health.js';
import { Metrics, metricsRoute, timeRequests } from './http/metrics.js';
import { lookupRoutes } from './http/routes/lookup.js';
import { oauthTokenRoutes } from './http/routes/oauth.js';
import { historyRoutes } from './http/routes/history.js';
import { programsRoutes } from './http/routes/programs.js';

export interface AppDependencies {
  config: Pick<Config, 'bodyLimitBytes' | 'adminToken' | 'lockTimeoutMs' | 'timezone' | 'oauthSigningKey'> &
    Partial<Pick<Config, 'metricsToken'>>;
  db: DB;
  /** The lock_timeout every connection of `db` already has (DatabaseHandle.lockTimeoutMs), if any. */
  databaseLockTimeoutMs?: number;
  clock: Clock;
  logger: FastifyBaseLogger;
  /** Seals and opens webhook secrets and custom headers. */
  secrets: SecretBox;
  /** Present when ALLOW_CLOCK_OVERRIDE=true: the clock `/admin/v1/clock` may move. */
  sandbox?: SandboxClock;
  /** The process's metrics, shared with its scheduler and delivery worker; unset: the app makes its own. */
  metrics?: Metrics;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const { version: VERSION } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

/** Builds the HTTP application; never listens (server.ts owns the process). */
export async function buildApp(deps: AppDependencies): Promise<App> {
  const { config, db, clock, logger, sandbox, secrets } = deps;
  const metrics = deps.metrics ?? new Metrics({ pendingDeliveries: () => pendingDeliveries(db), logger });
  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: config.bodyLimitBytes,
    return503OnClosing: false,
    // Ajv stays strict on purpose: no type coercion (an identifier sent as a number is handled
    // by the use case, not silently rewritten) and no stripping of unknown properties.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    genReqId: (request) => {
      const incoming = request.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: MAX_PARAM_LENGTH },
    // Every answer is the JSON envelope, also those of the router and of Node's HTTP parser.
    frameworkErrors: answerFrameworkError,
    clientErrorHandler: answerClientError(logger),
    // Node answers a missing Host with an empty 400 of its own; the onRequest hook below answers it.
    http: { requireHostHeader: false },
  }).withTypeProvider<TypeBoxTypeProvider>() as App;
  // Node answers an `Expect` other than 100-continue with an empty 417 unless told otherwise; the
  // service ignores the expectation (RFC 9110 §10.1.1 allows it) and answers the request.
  app.server.on('checkExpectation', app.routing);
  app.server.on('connect', refuseConnect);

  // While draining, requests already in flight finish and close their connection (a keep-alive
  // socket would otherwise hold the shutdown open until the client's idle timeout); requests
  // that arrive on an open socket get 503 in the JSON envelope.
  let draining = false;
  app.addHook('preClose', async () => {
    draining = true;
  });
  app.addHook('onRequest', async (request, reply) => {
    void reply.header('X-Request-Id', request.id);
    if (draining) return sendError(reply, 503, 'The service is shutting down; retry');
    if (request.raw.httpVersion === '1.1' && request.headers.host === undefined) {
      return sendError(reply, 400, 'An HTTP/1.1 request needs a Host header');
    }
  });
  app.addHook('onSend', async (_request, reply) => {
    if (draining) void reply.header('Connection', 'close');
  });

  app.addSchema(StatusSchema);
  app.addSchema(ErrorEnvelopeSchema);
  // Before any route, so that their hooks see every route.
  registerErrorHandling(app);
  timeRequests(app, metrics);
  app.addHook('onRoute', documentRoute);

  await app.register(swagger, openapiOptions(VERSION, { metricsToken: Boolean(config.metricsToken) }));
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  const signingKey = await loadSigningKey(db, config.oauthSigningKey, clock);
  const authenticator = new Authenticator({ db, clock, signingKey, throttle: new LoginThrottle(db, clock) });
  registerAuthentication(app, authenticator);
  await app.register(oauthTokenRoutes, { authenticator });

  const useCases = bindUseCases({
    db,
    clock,
    secrets,
    lockTimeoutMs: config.lockTimeoutMs,
    databaseLockTimeoutMs: deps.databaseLockTimeoutMs,
    defaultTimezone: config.timezone,
    telemetry: metrics,
  });
  healthRoutes(app, useCases);
  metricsRoute(app, metrics, config.metricsToken);
  batchEndpoints(app, useCases, metrics);
  lookupRoutes(app, useCases);
  historyRoutes(app, useCases);
  programsRoutes(app, useCases);
  if (config.adminToken)
    await app.register(adminRoutes, {
      prefix: '/admin/v1',
      token: config.adminToken,
      configuration: useCases.configuration,
      clock,
      sandbox,
    });

  return app;
}
