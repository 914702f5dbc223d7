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
}

/** The API's maximum batch: every HTTP request and every raw statement links this many customers. */
export const BATCH_SIZE = 50;

export function readSettings(env: NodeJS.ProcessEnv): BenchSettings {
  const levels = (env.BENCH_CONNECTIONS ?? '1,8,32')
    .split(',')
    .map((part) => positiveInteger('BENCH_CONNECTIONS', part));
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
  };
}

export function positiveInteger(name: string, raw: string): number {
  const value = Number(raw.trim());
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${name} must hold positive integers (got "${raw}")`);
  return value;
}
