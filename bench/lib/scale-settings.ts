import { positiveInteger, readSettings } from './settings.js';

/** The scale bench's settings (bench/README.md, "Scale"); each checked up front. */
export interface ScaleSettings {
  /** Server-level URL, as the other benches take it (BENCH_DATABASE_URL). */
  serverUrl: string;
  /** Memberships the data set is grown to, one size after another, ascending. */
  sizes: number[];
  /** Measured seconds per operation and concurrency level. */
  secondsPerOperation: number;
  /** HTTP connections of each measurement, lowest first. */
  connectionLevels: number[];
  /**
   * Customers each of link, update and delink may use per size: never-linked customers kept ready
   * for link, linked memberships picked at random for update and for delink.
   */
  freshCustomers: number;
  /** Memberships written per seeding statement (with their customers, activities and events). */
  membershipsPerChunk: number;
  cpuProfile: boolean;
}

export function readScaleSettings(env: NodeJS.ProcessEnv): ScaleSettings {
  const sizes = list('BENCH_SCALE_SIZES', env.BENCH_SCALE_SIZES ?? '10000,1000000,10000000');
  if (sizes.some((size, i) => i > 0 && size <= sizes[i - 1]!))
    throw new Error(`BENCH_SCALE_SIZES must be ascending (got ${sizes.join(',')})`);
  const connectionLevels = list('BENCH_SCALE_CONNECTIONS', env.BENCH_SCALE_CONNECTIONS ?? '1,8').sort((a, b) => a - b);
  const membershipsPerChunk = positiveInteger('BENCH_SCALE_CHUNK', env.BENCH_SCALE_CHUNK ?? '500000');
  // Two memberships per seeded customer: a chunk always holds whole customers.
  if (membershipsPerChunk % 2 !== 0) throw new Error(`BENCH_SCALE_CHUNK must be even (got ${membershipsPerChunk})`);
  return {
    serverUrl: readSettings(env).serverUrl,
    sizes,
    secondsPerOperation: positiveInteger('BENCH_SCALE_SECONDS', env.BENCH_SCALE_SECONDS ?? '5'),
    connectionLevels,
    freshCustomers: positiveInteger('BENCH_SCALE_FRESH', env.BENCH_SCALE_FRESH ?? '100000'),
    membershipsPerChunk,
    cpuProfile: env.BENCH_CPU_PROF === '1',
  };
}

function list(name: string, raw: string): number[] {
  return raw.split(',').map((part) => positiveInteger(name, part));
}
