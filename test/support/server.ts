import pino from 'pino';
import { Temporal } from 'temporal-polyfill';
import type { App } from '../../src/http/app-instance.js';
import { buildApp } from '../../src/app.js';
import { ManualClock } from '../../src/domain/clock.js';
import { applyDeclarations } from '../../src/domain/configuration/apply.js';
import { checkDeclarations, type Declarations } from '../../src/domain/configuration/declarations.js';
import { tillSecretOf } from '../../src/domain/credentials.js';
import { SandboxClock } from '../../src/domain/sandbox-clock.js';
import { SecretBox } from '../../src/domain/secrets.js';
import type { DatabaseOptions } from '../../src/db/database.js';
import { pendingDeliveries } from '../../src/domain/telemetry.js';
import { Metrics } from '../../src/http/metrics.js';
import { DeliveryWorker, type DeliveryReport } from '../../src/jobs/delivery-worker.js';
import { runDueWork, type SweepReport } from '../../src/jobs/sweeps.js';
import { createTestDatabase, type TestDatabase } from './database.js';

/** LOCK_TIMEOUT_MS's default. */
const DEFAULT_LOCK_TIMEOUT_MS = 5000;
export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789abcdef-0123456789';
/** The SECRETS_KEY of every test server: instances on one database share it, as they must. */
export const TEST_SECRETS = SecretBox.fromSecret('test-secrets-key-0123456789abcdef-0123456789');

export interface TestServer {
  url: string;
  app: App;
  database: TestDatabase;
  clock: ManualClock;
  /** One round of every scheduler sweep at the test clock's now. */
  runJobs(batchSize?: number, lanes?: number): Promise<SweepReport>;
  /** The delivery worker running in the background, when started with `deliveries`. */
  deliveries: DeliveryWorker | undefined;
  /**
   * Sends every delivery due now (on the server's clock) and waits until each attempt is
   * answered and recorded, round after round until nothing is due; with or without `deliveries`.
   */
  runDeliveries(): Promise<DeliveryReport>;
  /** Real HTTP to the listening server. `auth` is a till [username, password] pair. */
  request(method: string, path: string, options?: RequestOptions): Promise<TestResponse>;
  close(): Promise<void>;
}

export interface RequestOptions {
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
  auth?: [string, string] | null;
  admin?: boolean;
}

export interface TestResponse {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  text: string;
}

export function basicHeader(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${tillSecretOf(password)}`).toString('base64')}`;
}

export interface TestServerOptions {
  declarations?: Declarations;
  now?: string;
  lockTimeoutMs?: number;
  bodyLimitBytes?: number;
  defaultAuth?: [string, string];
  /** A PKCS#8 PEM, as OAUTH_SIGNING_KEY; unset: the key generated and stored in the database. */
  oauthSigningKey?: string;
  /** As ALLOW_CLOCK_OVERRIDE=true: the admin API's clock moves a SandboxClock over the test clock. */
  sandbox?: boolean;
  /**
   * Runs a DeliveryWorker in the background, as a worker instance would: on the server's clock
   * (the SandboxClock with `sandbox`, whose moves wake it), with TEST_SECRETS, LISTEN on the test
   * database. Close stops it.
   */
  deliveries?: boolean | TestDeliveryOptions;
  /** As METRICS_TOKEN: /metrics asks for this bearer token. */
  metricsToken?: string;
  /** Told of every statement the server's database handle runs (migrations and declarations included). */
  onQuery?: DatabaseOptions['onQuery'];
}

export interface TestDeliveryOptions {
  /** WEBHOOK_TIMEOUT_MS; default 2,000. */
  timeoutMs?: number;
  /** WEBHOOK_CONCURRENCY; default 16. */
  concurrency?: number;
  /** The slow poll; default 5,000. */
  pollIntervalMs?: number;
  /** EVENT_RETENTION_DAYS; default 30. */
  retentionDays?: number;
}

/** Starts the whole app on an ephemeral port over a fresh database of the backend under test. */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  // Connections with the service's default lock_timeout, as server.ts opens them: a test server
  // with its own lockTimeoutMs sets it per transaction instead.
  const database = await createTestDatabase({ onQuery: options.onQuery, lockTimeoutMs: DEFAULT_LOCK_TIMEOUT_MS });
  const clock = new ManualClock(Temporal.Instant.from(options.now ?? '2026-06-15T06:30:00Z'));
  if (options.declarations) {
    await applyDeclarations(database.service.db, checkDeclarations(options.declarations), {
      defaultTimezone: 'UTC',
      clock,
      secrets: TEST_SECRETS,
    });
  }
  return serveApp(database, clock, options, () => database.drop());
}

/**
 * Another instance of the app on `first`'s database and clock, as a second process or a restart
 * would be; closing it leaves the database to `first`.
 */
export async function startSecondServer(first: TestServer, options: TestServerOptions = {}): Promise<TestServer> {
  return serveApp(first.database, first.clock, options, async () => {});
}

async function serveApp(
  database: TestDatabase,
  clock: ManualClock,
  options: TestServerOptions,
  release: () => Promise<void>,
): Promise<TestServer> {
  const { service } = database;
  const sandbox = options.sandbox ? new SandboxClock(service.db, clock) : undefined;
  await sandbox?.load();
  // One registry per instance, as per process: its API, its sweeps (runJobs) and its delivery worker.
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const metrics = new Metrics({ pendingDeliveries: () => pendingDeliveries(service.db), logger });
  const app = await buildApp({
    sandbox,
    metrics,
    config: {
      bodyLimitBytes: options.bodyLimitBytes ?? 1024 * 1024,
      adminToken: TEST_ADMIN_TOKEN,
      lockTimeoutMs: options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
      timezone: 'UTC',
      oauthSigningKey: options.oauthSigningKey,
      metricsToken: options.metricsToken,
    },
    db: service.db,
    databaseLockTimeoutMs: service.lockTimeoutMs,
    clock: sandbox ?? clock,
    secrets: TEST_SECRETS,
    logger,
  });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  const defaultAuth = options.defaultAuth;
  const deliveryOptions = typeof options.deliveries === 'object' ? options.deliveries : {};
  const makeWorker = () =>
    new DeliveryWorker({
      db: service.db,
      clock: sandbox ?? clock,
      secrets: TEST_SECRETS,
      timeoutMs: deliveryOptions.timeoutMs ?? 2_000,
      concurrency: deliveryOptions.concurrency ?? 16,
      pollIntervalMs: deliveryOptions.pollIntervalMs,
      retentionDays: deliveryOptions.retentionDays ?? 30,
      listen: service.listen,
      logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
      telemetry: metrics,
    });
  const deliveries = options.deliveries ? makeWorker() : undefined;
  if (deliveries) {
    sandbox?.onMove(() => deliveries.wake());
    await deliveries.start();
  }
  let roundWorker = deliveries;

  return {
    url: address,
    app,
    database,
    clock,
    async request(method, path, { body, rawBody, headers = {}, auth, admin } = {}) {
      const allHeaders: Record<string, string> = { ...headers };
      const credentials = auth === undefined ? defaultAuth : auth;
      if (admin) allHeaders.authorization = `Bearer ${TEST_ADMIN_TOKEN}`;
      else if (credentials && allHeaders.authorization === undefined) {
        allHeaders.authorization = basicHeader(...credentials);
      }
      let payload: string | undefined = rawBody;
      if (body !== undefined) {
        payload = JSON.stringify(body);
        allHeaders['content-type'] ??= 'application/json';
      }
      const response = await fetch(address + path, { method, headers: allHeaders, body: payload });
      const text = await response.text();
      let parsed: unknown = undefined;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      return { status: response.status, headers: response.headers, body: parsed, text };
    },
    runJobs: (batchSize = 1000, lanes = 1) =>
      runDueWork({ db: database.service.db, clock, batchSize, lanes, telemetry: metrics }),
    deliveries,
    runDeliveries: () => (roundWorker ??= makeWorker()).runUntilIdle(),
    async close() {
      await deliveries?.stop();
      await app.close();
      await release();
    },
  };
}
