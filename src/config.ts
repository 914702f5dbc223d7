import { resolve } from 'node:path';
import { isValidTimeZone } from './domain/dates.js';
import { MIN_SECRETS_KEY_LENGTH } from './domain/secrets.js';
import { signingKeyProblem } from './domain/signing-key.js';

export type Role = 'api' | 'worker' | 'all';
const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];

/** Everything the process reads from its environment, validated once at start. */
export interface Config {
  port: number;
  host: string;
  databaseUrl: string | undefined;
  databasePoolSize: number;
  dataDir: string;
  configFile: string;
  adminToken: string | undefined;
  /** PKCS#8 PEM of the RSA key that signs OAuth tokens; unset: a key generated once and kept in the database. */
  oauthSigningKey: string | undefined;
  timezone: string;
  logLevel: LogLevel;
  bodyLimitBytes: number;
  lockTimeoutMs: number;
  role: Role;
  allowClockOverride: boolean;
  schedulerIntervalMs: number;
  schedulerBatchSize: number;
  /** Scheduler batches in flight at once, each on its own connection. */
  schedulerLanes: number;
  /** How long a webhook receiver has to answer one attempt (WEBHOOK_TIMEOUT_MS). */
  webhookTimeoutMs: number;
  /** Deliveries in flight per process (WEBHOOK_CONCURRENCY). */
  webhookConcurrency: number;
  /** Events and finished deliveries older than this are purged (EVENT_RETENTION_DAYS). */
  eventRetentionDays: number;
  /** Seals webhook secrets (SECRETS_KEY); unset: the key in `secretsKeyFile`, made once. */
  secretsKey: string | undefined;
  secretsKeyFile: string;
  /** Bearer token `GET /metrics` asks for (METRICS_TOKEN); unset: /metrics is open. */
  metricsToken: string | undefined;
  /** A port of its own serving /metrics, /health and /ready (METRICS_PORT): how a `worker` is scraped. */
  metricsPort: number | undefined;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

export const MIN_ADMIN_TOKEN_LENGTH = 32;
export const MIN_METRICS_TOKEN_LENGTH = 16;

/** Reads and checks the environment; every problem is reported at once, by variable name. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  const problems: string[] = [];
  const value = (name: string) => {
    const raw = env[name]?.trim();
    return raw === '' ? undefined : raw;
  };
  const integer = (name: string, fallback: number, min: number, max: number) => {
    const raw = value(name);
    if (raw === undefined) return fallback;
    const parsed = Number(raw);
    if (!/^\d+$/.test(raw) || parsed < min || parsed > max) {
      problems.push(`${name} must be an integer from ${min} to ${max} (got "${raw}")`);
      return fallback;
    }
    return parsed;
  };
  const oneOf = <T extends string>(name: string, allowed: readonly T[], fallback: T): T => {
    const raw = value(name);
    if (raw === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(raw)) {
      problems.push(`${name} must be one of ${allowed.join(', ')} (got "${raw}")`);
      return fallback;
    }
    return raw as T;
  };

  const flag = (name: string) => {
    const raw = value(name);
    if (raw === undefined || raw === 'false' || raw === '0') return false;
    if (raw === 'true' || raw === '1') return true;
    problems.push(`${name} must be true or false (got "${raw}")`);
    return false;
  };

  const timezone = value('TZ') ?? 'UTC';
  if (!isValidTimeZone(timezone))
    problems.push(`TZ must be an IANA time zone such as UTC or Asia/Kolkata (got "${timezone}")`);

  const databaseUrl = value('DATABASE_URL');
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push('DATABASE_URL must be a postgres:// or postgresql:// connection string');
  }

  const adminToken = value('ADMIN_TOKEN');
  if (adminToken !== undefined && adminToken.length < MIN_ADMIN_TOKEN_LENGTH) {
    problems.push(
      `ADMIN_TOKEN must be at least ${MIN_ADMIN_TOKEN_LENGTH} characters (unset it to turn the admin API off)`,
    );
  }

  // A PEM in an environment variable often arrives with its newlines written as "\n".
  const oauthSigningKey = value('OAUTH_SIGNING_KEY')?.replaceAll('\\n', '\n');
  const keyProblem = oauthSigningKey === undefined ? undefined : signingKeyProblem(oauthSigningKey);
  if (keyProblem) problems.push(`OAUTH_SIGNING_KEY ${keyProblem}`);

  const secretsKey = value('SECRETS_KEY');
  if (secretsKey !== undefined && secretsKey.length < MIN_SECRETS_KEY_LENGTH) {
    problems.push(`SECRETS_KEY must be at least ${MIN_SECRETS_KEY_LENGTH} characters (e.g. openssl rand -hex 32)`);
  }
  const dataDir = resolve(value('DATA_DIR') ?? './data');

  const metricsToken = value('METRICS_TOKEN');
  if (metricsToken !== undefined && metricsToken.length < MIN_METRICS_TOKEN_LENGTH) {
    problems.push(
      `METRICS_TOKEN must be at least ${MIN_METRICS_TOKEN_LENGTH} characters (unset it to leave /metrics open)`,
    );
  }
  const port = integer('PORT', 8080, 0, 65535);
  const metricsPort = value('METRICS_PORT') === undefined ? undefined : integer('METRICS_PORT', 0, 1, 65535);
  const role = oneOf('ROLE', ['api', 'worker', 'all'] as const, 'all');
  if (metricsPort !== undefined && metricsPort === port && role !== 'worker') {
    problems.push(`METRICS_PORT must differ from PORT (both are ${port})`);
  }

  const config: Config = {
    port,
    host: value('HOST') ?? '127.0.0.1',
    databaseUrl,
    databasePoolSize: integer('DATABASE_POOL_SIZE', 10, 1, 1000),
    dataDir,
    configFile: resolve(value('CONFIG_FILE') ?? 'config/demo.yaml'),
    adminToken,
    oauthSigningKey,
    timezone,
    logLevel: oneOf('LOG_LEVEL', logLevels, 'info'),
    bodyLimitBytes: integer('BODY_LIMIT_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
    lockTimeoutMs: integer('LOCK_TIMEOUT_MS', 5000, 10, 600_000),
    role,
    allowClockOverride: flag('ALLOW_CLOCK_OVERRIDE'),
    schedulerIntervalMs: integer('SCHEDULER_INTERVAL_MS', 1000, 50, 3_600_000),
    schedulerBatchSize: integer('SCHEDULER_BATCH_SIZE', 1000, 1, 100_000),
    schedulerLanes: integer('SCHEDULER_LANES', 2, 1, 16),
    webhookTimeoutMs: integer('WEBHOOK_TIMEOUT_MS', 10_000, 100, 120_000),
    webhookConcurrency: integer('WEBHOOK_CONCURRENCY', 16, 1, 1024),
    eventRetentionDays: integer('EVENT_RETENTION_DAYS', 30, 1, 3650),
    secretsKey,
    secretsKeyFile: resolve(value('SECRETS_KEY_FILE') ?? `${dataDir}/secrets.key`),
    metricsToken,
    metricsPort,
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config);
}
