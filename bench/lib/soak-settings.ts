import { positiveInteger, readSettings } from './settings.js';

/** The memory soak's settings (bench/README.md, "Memory soak"); each checked up front. */
export interface SoakSettings {
  /** Server-level URL: the bench creates (and drops) its own database through it. */
  serverUrl: string;
  /** HTTP connections of the full-speed peak load. */
  connections: number;
  /** Measured seconds of the peak phase (after its untimed warm-up). */
  peakSeconds: number;
  /** Seconds of the paced load at half the peak rate. */
  soakSeconds: number;
  customers: number;
  /** ROLE as the service gets it: `all` unless the environment asks for `api`. */
  role: 'all' | 'api';
  /** The compiled service (`npm run build`'s output), as deployed; false: the sources through tsx, as `npm start` runs them. */
  compiled: boolean;
}

/** Three marks, each the median of its last 10 s of samples, need 30 s at least. */
const MIN_SOAK_SECONDS = 30;

export function readSoakSettings(env: NodeJS.ProcessEnv): SoakSettings {
  const role = env.ROLE?.trim() || 'all';
  // A worker serves no HTTP: there would be nothing to load.
  if (role !== 'all' && role !== 'api') throw new Error(`ROLE must be all (the default) or api here (got "${role}")`);
  const soakSeconds = positiveInteger('BENCH_SOAK_SECONDS', env.BENCH_SOAK_SECONDS ?? '180');
  if (soakSeconds < MIN_SOAK_SECONDS)
    throw new Error(`BENCH_SOAK_SECONDS must be at least ${MIN_SOAK_SECONDS} (got ${soakSeconds})`);
  return {
    serverUrl: readSettings(env).serverUrl,
    connections: positiveInteger('BENCH_SOAK_CONNECTIONS', env.BENCH_SOAK_CONNECTIONS ?? '8'),
    peakSeconds: positiveInteger('BENCH_SOAK_PEAK_SECONDS', env.BENCH_SOAK_PEAK_SECONDS ?? '20'),
    soakSeconds,
    customers: positiveInteger('BENCH_SOAK_CUSTOMERS', env.BENCH_SOAK_CUSTOMERS ?? '400000'),
    role,
    compiled: flag('BENCH_SOAK_COMPILED', env.BENCH_SOAK_COMPILED ?? '1'),
  };
}

function flag(name: string, raw: string): boolean {
  if (raw === '1') return true;
  if (raw === '0') return false;
  throw new Error(`${name} must be 1 or 0 (got "${raw}")`);
}
