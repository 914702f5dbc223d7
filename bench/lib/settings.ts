/** What a bench run can be told through its environment; every value is checked up front. */
export type ServerMode = 'child' | 'in-process';

export interface BenchSettings {
  /** Server-level URL: the bench creates (and drops) its own database through it. */
  serverUrl: string;
  connectionLevels: number[];
  secondsPerLevel: number;
  customers: number;
  serverMode: ServerMode;
  /** Child mode only: write a V8 CPU profile of the service to bench/results/. */
  cpuProfile: boolean;
  /** Measure the service on its embedded PGlite database too, after the PostgreSQL levels. */
  pglite: boolean;
  /**
   * PGlite's levels, each one of `connectionLevels` so that it has a PostgreSQL figure beside it;
   * undefined: the level where the service did best on PostgreSQL.
   */
  pgliteConnectionLevels: number[] | undefined;
  /** Run pgbench with the raw SQL statement at each level, when pgbench is on PATH. */
  pgbench: boolean;
  /**
   * Server-level URL of a plain PostgreSQL server: when `serverUrl` is a Citus coordinator, the
   * service is measured there too, at the same levels, beside its figures on Citus. Undefined
   * (BENCH_POSTGRES_URL set empty): no comparison.
   */
  postgresUrl: string | undefined;
}

/** The API's maximum batch: every HTTP request and every raw statement links this many customers. */
export const BATCH_SIZE = 50;

export function readSettings(env: NodeJS.ProcessEnv): BenchSettings {
  const levels = integerList('BENCH_CONNECTIONS', env.BENCH_CONNECTIONS ?? '1,8,32');
  const pgliteLevels =
    env.BENCH_PGLITE_CONNECTIONS === undefined
      ? undefined
      : integerList('BENCH_PGLITE_CONNECTIONS', env.BENCH_PGLITE_CONNECTIONS);
  const unmatched = pgliteLevels?.filter((level) => !levels.includes(level)) ?? [];
  if (unmatched.length > 0)
    throw new Error(
      `BENCH_PGLITE_CONNECTIONS must be levels of BENCH_CONNECTIONS (${levels.join(',')}), ` +
        `to compare with PostgreSQL at the same level (got ${unmatched.join(',')})`,
    );
  const mode = env.BENCH_SERVER ?? 'child';
  if (mode !== 'child' && mode !== 'in-process')
    throw new Error(`BENCH_SERVER must be child or in-process (got "${mode}")`);
  return {
    serverUrl: env.BENCH_DATABASE_URL ?? env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    connectionLevels: levels,
    secondsPerLevel: positiveInteger('BENCH_SECONDS', env.BENCH_SECONDS ?? '10'),
    customers: positiveInteger('BENCH_CUSTOMERS', env.BENCH_CUSTOMERS ?? '100000'),
    serverMode: mode,
    cpuProfile: env.BENCH_CPU_PROF === '1',
    pglite: onUnlessZero('BENCH_PGLITE', env.BENCH_PGLITE),
    pgliteConnectionLevels: pgliteLevels,
    pgbench: onUnlessZero('BENCH_PGBENCH', env.BENCH_PGBENCH),
    postgresUrl: (env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres').trim() || undefined,
  };
}

function integerList(name: string, raw: string): number[] {
  return raw.split(',').map((part) => positiveInteger(name, part));
}

/** A part of the run that is on by default: `0` turns it off, `1` (or unset) leaves it on. */
function onUnlessZero(name: string, raw: string | undefined): boolean {
  const value = raw?.trim() ?? '1';
  if (value !== '0' && value !== '1') throw new Error(`${name} must be 0 or 1 (got "${raw}")`);
  return value === '1';
}

export function positiveInteger(name: string, raw: string): number {
  const value = Number(raw.trim());
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${name} must hold positive integers (got "${raw}")`);
  return value;
}
