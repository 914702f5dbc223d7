import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, sql, type KyselyConfig } from 'kysely';
import pg from 'pg';
import { lockDataDir } from './data-dir-lock.js';
import { listenOnPGlite, listenOnPostgres, type Unlisten } from './notifications.js';
import { PGliteDialect } from './pglite-dialect.js';
import { prepareStatements } from './prepared-statements.js';
import type { Database } from './schema.js';

export type DB = Kysely<Database>;
export type Backend = 'postgres' | 'pglite';

export interface DatabaseHandle {
  db: DB;
  backend: Backend;
  /**
   * The `lock_timeout` every connection of `db` has (DatabaseOptions.lockTimeoutMs), if one was
   * set and holds where the locks are taken (not on Citus, whose workers take them).
   */
  lockTimeoutMs: number | undefined;
  /** A Citus coordinator: the tables are sharded by org over its workers. */
  distributed: boolean;
  /**
   * Calls `onNotify` on every NOTIFY on `channel` (PostgreSQL: a dedicated connection that
   * reconnects by itself; PGlite: the instance's own LISTEN). Close stops any still listening.
   */
  listen(channel: string, onNotify: () => void): Promise<Unlisten>;
  close(): Promise<void>;
}

export type DatabaseTarget =
  | { kind: 'postgres'; url: string; poolSize?: number; connectTimeoutMs?: number }
  | { kind: 'pglite'; dataDir: string }
  | { kind: 'pglite-memory' };

/** The database cannot be used as configured. The message says, on one line, what is wrong and what to do. */
export class DatabaseUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DatabaseUnavailableError';
  }
}

/** int8 (ids, counts) as JS numbers: every id the service hands out fits in 2^53. */
const pgTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8
      ? Number
      : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

const CONNECT_TIMEOUT_MS = 10_000;

export interface DatabaseOptions {
  /** Told of every statement the handle runs, with its parameters, once it has run. */
  onQuery?: (query: { sql: string; parameters: readonly unknown[] }) => void;
  /**
   * How long any statement waits for a lock before failing with 55P03, set once per connection
   * (PostgreSQL: in the startup packet, no statement of its own) rather than per transaction.
   */
  lockTimeoutMs?: number;
  /** More startup settings (`-c name=value ...`), after PGOPTIONS's, so they win over them. PostgreSQL only. */
  startupOptions?: string;
}

/**
 * The startup packet's settings: PGOPTIONS (as libpq reads it: for example
 * `-c citus.multi_task_query_log_level=error`), then the lock timeout and, on Citus, the
 * propagation of SET LOCAL to the workers, then `startupOptions`.
 */
function connectionOptions({ lockTimeoutMs, startupOptions }: DatabaseOptions, citus: boolean): { options?: string } {
  const settings = [
    process.env.PGOPTIONS,
    lockTimeoutMs === undefined ? undefined : `-c lock_timeout=${lockTimeoutMs}`,
    // Citus: a transaction's SET LOCAL (the per-transaction lock timeout) reaches the workers too.
    citus ? '-c citus.propagate_set_commands=local' : undefined,
    startupOptions,
  ];
  const options = settings.filter((s) => s !== undefined && s.trim() !== '').join(' ');
  return options === '' ? {} : { options };
}

function kyselyLog({ onQuery }: DatabaseOptions): KyselyConfig['log'] {
  if (!onQuery) return undefined;
  return (event) => {
    if (event.level === 'query') onQuery({ sql: event.query.sql, parameters: event.query.parameters });
  };
}

export async function openDatabase(target: DatabaseTarget, options: DatabaseOptions = {}): Promise<DatabaseHandle> {
  if (target.kind === 'postgres') {
    const { citus } = await checkConnection(target.url, target.connectTimeoutMs ?? CONNECT_TIMEOUT_MS);
    const pool = new pg.Pool({
      connectionString: target.url,
      max: target.poolSize ?? 10,
      types: pgTypes,
      ...connectionOptions(options, citus),
    });
    pool.on('connect', prepareStatements);
    pool.on('error', () => {
      // An idle client lost its server; the pool replaces it. Queries report their own errors.
    });
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), log: kyselyLog(options) });
    const listeners = new Listeners();
    return {
      db,
      backend: 'postgres',
      // On Citus a setting of the coordinator's session does not reach the workers' sessions,
      // where the row locks are taken: each transaction sets it (SET LOCAL, propagated) instead.
      lockTimeoutMs: citus ? undefined : options.lockTimeoutMs,
      distributed: citus,
      listen: (channel, onNotify) => listeners.add(listenOnPostgres(target.url, channel, onNotify)),
      close: async () => {
        await listeners.stopAll();
        await db.destroy();
      },
    };
  }
  // Loaded only when wanted: on PostgreSQL the embedded engine would be tens of megabytes held for nothing.
  const { PGlite } = await import('@electric-sql/pglite');
  if (target.kind === 'pglite-memory') return pgliteHandle(new PGlite('memory://'), () => {}, options);
  mkdirSync(target.dataDir, { recursive: true });
  const releaseLock = lockDataDir(target.dataDir);
  try {
    const pglite = new PGlite(join(target.dataDir, 'pgdata'));
    await pglite.waitReady;
    return await pgliteHandle(pglite, releaseLock, options);
  } catch (error) {
    releaseLock();
    throw error;
  }
}

/** The handle's listeners, so that closing it stops those its users forgot. */
class Listeners {
  private readonly active = new Set<Unlisten>();

  async add(started: Promise<Unlisten>): Promise<Unlisten> {
    const unlisten = await started;
    const once: Unlisten = async () => {
      if (!this.active.delete(once)) return;
      await unlisten();
    };
    this.active.add(once);
    return once;
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.active].map((unlisten) => unlisten()));
  }
}

/** A PGlite instance as a handle; `release` runs after it is closed (the data folder's lock). */
async function pgliteHandle(pglite: PGlite, release: () => void, options: DatabaseOptions): Promise<DatabaseHandle> {
  // One session: nothing waits on another connection's locks, but the setting holds as on PostgreSQL.
  if (options.lockTimeoutMs !== undefined) await pglite.query(`set lock_timeout = ${options.lockTimeoutMs}`);
  const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite), log: kyselyLog(options) });
  const listeners = new Listeners();
  return {
    db,
    backend: 'pglite',
    lockTimeoutMs: options.lockTimeoutMs,
    distributed: false,
    listen: (channel, onNotify) => listeners.add(listenOnPGlite(db, pglite, channel, onNotify)),
    close: async () => {
      await listeners.stopAll();
      await db.destroy();
      release();
    },
  };
}

/**
 * One connection before the pool exists, so that a server that is down, a database or role that
 * does not exist, or a wrong password is reported as such, and a server that never answers
 * stops the start instead of hanging it. (The pool itself gets no connect timeout: under load a
 * request would rather wait for a free connection than fail.)
 */
async function checkConnection(url: string, timeoutMs: number): Promise<{ citus: boolean }> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  const started = performance.now();
  try {
    await client.connect();
  } catch (error) {
    const timedOut = performance.now() - started >= timeoutMs;
    throw new DatabaseUnavailableError(connectionProblem(error, client, timedOut ? timeoutMs : undefined), {
      cause: error,
    });
  }
  try {
    const { rows } = await client.query<{ citus: boolean }>(
      "select exists (select 1 from pg_extension where extname = 'citus') as citus",
    );
    return { citus: rows[0]?.citus === true };
  } finally {
    await client.end();
  }
}

interface ConnectionTarget {
  host: string;
  port: number;
  user?: string;
  database?: string;
}

/**
 * What to tell the operator about a failed connection, by SQLSTATE or socket error code. Never
 * the URL itself: it may hold the password.
 */
function connectionProblem(error: unknown, target: ConnectionTarget, timeoutMs: number | undefined): string {
  const { host, port, user, database } = target;
  const at = `${host}:${port}`;
  const code = (error as { code?: unknown } | null)?.code;
  const reason = error instanceof Error ? error.message : String(error);
  switch (code) {
    case '3D000': // invalid_catalog_name
      return (
        `database "${database}" does not exist on ${at}; create it first ` +
        `(createdb -h ${host} -p ${port} -U ${user} ${database}) or point DATABASE_URL at an existing database`
      );
    case '28000': // invalid_authorization_specification: no such role, or pg_hba.conf refuses it
      return `PostgreSQL at ${at} refused role "${user}" (${reason}); check the user in DATABASE_URL, create the role, or allow it in pg_hba.conf`;
    case '28P01': // invalid_password
      return `PostgreSQL at ${at} rejected the password of role "${user}"; check the password in DATABASE_URL`;
    case '53300': // too_many_connections
      return `PostgreSQL at ${at} has no connection slot left (${reason}); lower DATABASE_POOL_SIZE (times the instances) or raise max_connections`;
    case '57P03': // cannot_connect_now
      return `PostgreSQL at ${at} does not accept connections yet (${reason}); start again once it is up`;
    case 'ECONNREFUSED':
      return `PostgreSQL refused the connection at ${at}; is it running, and is DATABASE_URL right?`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the host "${host}" of DATABASE_URL cannot be resolved (${code}); check its spelling and the DNS`;
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `PostgreSQL at ${at} cannot be reached (${code}); check the host and port in DATABASE_URL and the network between`;
  }
  if (timeoutMs !== undefined) {
    return `PostgreSQL at ${at} did not answer within ${timeoutMs / 1000} s; check the host and port in DATABASE_URL and any firewall between`;
  }
  return `cannot connect to PostgreSQL at ${at}: ${reason}`;
}

export async function ping(db: DB): Promise<void> {
  await sql`select 1`.execute(db);
}
