import closeWithGrace from 'close-with-grace';
import pino, { type DestinationStream, type Logger } from 'pino';
import { buildApp } from './app.js';
import type { Config } from './config.js';
import { LOG_REDACTION } from './log-redaction.js';
import { openDatabase, ping, type DatabaseHandle } from './db/database.js';
import { migrateToLatest } from './db/migrate.js';
import { systemClock, type Clock } from './domain/clock.js';
import { applyDeclarations } from './domain/configuration/apply.js';
import { readDeclarationsFile } from './domain/configuration/declarations.js';
import { foreignSealingKeys } from './domain/deliveries.js';
import { SandboxClock } from './domain/sandbox-clock.js';
import { loadSecretBox, type SecretBox } from './domain/secrets.js';
import { pendingDeliveries } from './domain/telemetry.js';
import type { App } from './http/app-instance.js';
import { Metrics } from './http/metrics.js';
import { buildMetricsServer } from './http/metrics-server.js';
import { DeliveryWorker } from './jobs/delivery-worker.js';
import { Scheduler } from './jobs/scheduler.js';

/** A start-up failure the operator can fix. The message says, on one line, what is wrong and what to do. */
export class StartupError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StartupError';
  }
}

/**
 * JSON lines on stdout (or `destination`), secrets redacted (src/log-redaction.ts). The API's
 * lines of a request are written by Fastify's child logger of that request, so each carries its
 * `reqId` (the X-Request-Id answered); process and job lines carry none.
 */
export function createLogger(config: Pick<Config, 'logLevel'>, destination?: DestinationStream): Logger {
  return pino({ level: config.logLevel, base: { service: 'partner-programs' }, redact: LOG_REDACTION }, destination);
}

export async function openConfiguredDatabase(config: Config, logger: Logger): Promise<DatabaseHandle> {
  const handle = await openDatabase(
    config.databaseUrl
      ? { kind: 'postgres', url: config.databaseUrl, poolSize: config.databasePoolSize }
      : { kind: 'pglite', dataDir: config.dataDir },
    { lockTimeoutMs: config.lockTimeoutMs },
  );
  try {
    const applied = await migrateToLatest(handle.db);
    logger.info({ backend: handle.distributed ? 'citus' : handle.backend, applied }, 'database ready');
    return handle;
  } catch (error) {
    await handle.close();
    throw error;
  }
}

export interface RunningServer {
  app: App | undefined;
  scheduler: Scheduler | undefined;
  deliveries: DeliveryWorker | undefined;
  database: DatabaseHandle;
  logger: Logger;
  /** The HTTP address, when this process serves the API. */
  address: string | undefined;
  /** The METRICS_PORT listener (/metrics, /health, /ready), when that is set. */
  metricsServer: App | undefined;
  metricsAddress: string | undefined;
  close(): Promise<void>;
}

const CLOCK_POLL_MS = 500;

/**
 * The process: config → logger → database (migrated) → declarations → scheduler, delivery
 * worker and/or API. ROLE decides what runs: `api` serves HTTP, `worker` runs the scheduler and
 * the delivery worker, `all` (default) everything.
 * A worker catches up on everything that fell due before the API starts listening.
 */
export async function startServer(config: Config, realClock: Clock = systemClock): Promise<RunningServer> {
  const logger = createLogger(config);
  const serves = config.role !== 'worker';
  const declarations = serves ? await readDeclarationsFile(config.configFile) : undefined;
  const database = await openConfiguredDatabase(config, logger);
  let app: App | undefined;
  let scheduler: Scheduler | undefined;
  let deliveries: DeliveryWorker | undefined;
  let metricsServer: App | undefined;
  // One registry for everything this process does: its API, its scheduler, its delivery worker.
  const metrics = new Metrics({ pendingDeliveries: () => pendingDeliveries(database.db), logger });
  const secrets = loadSecretBox(config);
  const sandbox = config.allowClockOverride ? new SandboxClock(database.db, realClock) : undefined;
  try {
    await checkSecretsKey(database, secrets);
    if (sandbox) {
      await sandbox.follow(CLOCK_POLL_MS);
      logger.warn('ALLOW_CLOCK_OVERRIDE is on: /admin/v1/clock can move the service time');
    }
    const clock = sandbox ?? realClock;
    // Before the catch-up below, which may take long: a worker is probed and scraped meanwhile.
    let metricsAddress: string | undefined;
    const metricsPort = config.metricsPort;
    if (metricsPort !== undefined) {
      metricsServer = await buildMetricsServer({
        metrics,
        token: config.metricsToken,
        ready: () => ping(database.db),
        logger,
      });
      metricsAddress = await metricsServer.listen({ port: metricsPort, host: config.host }).catch((error: unknown) => {
        throw listenFailure(error, config.host, metricsPort, 'METRICS_PORT');
      });
    } else if (!serves) {
      logger.info('this worker serves no metrics: set METRICS_PORT to scrape it');
    }
    if (declarations) {
      await applyDeclarations(database.db, declarations, { defaultTimezone: config.timezone, clock, secrets });
      logger.info({ file: config.configFile, orgs: declarations.orgs.length }, 'configuration applied');
    }
    if (config.role !== 'api') {
      scheduler = new Scheduler({
        db: database.db,
        clock,
        batchSize: config.schedulerBatchSize,
        lanes: config.schedulerLanes,
        intervalMs: config.schedulerIntervalMs,
        logger,
        telemetry: metrics,
      });
      const caughtUp = await scheduler.runOnce();
      logger.info({ caughtUp }, 'scheduler caught up');
      sandbox?.onMove(() => scheduler?.wake());
      scheduler.start();
      deliveries = new DeliveryWorker({
        db: database.db,
        clock,
        realClock,
        secrets,
        timeoutMs: config.webhookTimeoutMs,
        concurrency: config.webhookConcurrency,
        retentionDays: config.eventRetentionDays,
        listen: database.listen,
        logger,
        telemetry: metrics,
      });
      sandbox?.onMove(() => deliveries?.wake());
      await deliveries.start();
    }
    let address: string | undefined;
    if (serves) {
      app = await buildApp({
        config,
        db: database.db,
        databaseLockTimeoutMs: database.lockTimeoutMs,
        clock,
        logger,
        sandbox,
        secrets,
        metrics,
      });
      address = await app.listen({ port: config.port, host: config.host }).catch((error: unknown) => {
        throw listenFailure(error, config.host, config.port, 'PORT');
      });
    }
    const running = { app, scheduler, deliveries, metricsServer };
    return {
      ...running,
      database,
      logger,
      address,
      metricsAddress,
      close: async () => {
        await running.app?.close();
        await running.scheduler?.stop();
        await running.deliveries?.stop();
        await running.metricsServer?.close();
        sandbox?.stop();
        await database.close();
      },
    };
  } catch (error) {
    await app?.close();
    await scheduler?.stop();
    await deliveries?.stop();
    await metricsServer?.close();
    sandbox?.stop();
    await database.close();
    throw error;
  }
}

/** Every instance must open the stored webhook secrets: refuse to start with another key. */
async function checkSecretsKey(database: DatabaseHandle, secrets: SecretBox): Promise<void> {
  const others = await foreignSealingKeys(database.db, secrets);
  if (others.length === 0) return;
  throw new StartupError(
    `SECRETS_KEY is not the key that sealed this database's webhook secrets (they were sealed by key ` +
      `${others.join(', ')}; this instance's key is ${secrets.fingerprint}); ` +
      'give every instance the same SECRETS_KEY or SECRETS_KEY_FILE',
  );
}

/** Why the port (of `setting`) cannot be had, for the errors an operator can fix; any other as it came. */
function listenFailure(error: unknown, host: string, port: number, setting: 'PORT' | 'METRICS_PORT'): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  const at = `${host}:${port}`;
  switch (code) {
    case 'EADDRINUSE':
      return new StartupError(`${at} is in use by another process; stop it or set another ${setting}`, {
        cause: error,
      });
    case 'EACCES':
      return new StartupError(`no permission to listen on ${at}; set a ${setting} above 1023`, { cause: error });
    case 'EADDRNOTAVAIL':
      return new StartupError(
        `HOST ${host} is not an address of this machine; use 127.0.0.1, 0.0.0.0 (every interface) or one of its addresses`,
        { cause: error },
      );
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new StartupError(`HOST ${host} cannot be resolved (${code}); set HOST to an address of this machine`, {
        cause: error,
      });
  }
  return error;
}

/** Runs until SIGTERM/SIGINT: stop accepting, let in-flight requests and sweeps finish, close the pool. */
export async function serve(config: Config): Promise<void> {
  const server = await startServer(config);
  closeWithGrace({ delay: 10_000, logger: server.logger }, async ({ signal, err }) => {
    if (err) server.logger.error({ err }, 'shutting down after an error');
    else server.logger.info({ signal }, 'shutting down');
    await server.close();
  });
}
