import { readdirSync, readFileSync } from 'node:fs';

const MB = 1024 * 1024;

/** A reading taken `atSeconds` after its sampler started. */
export type Sample<T> = T & { atSeconds: number };

/**
 * The pid of the service child: the bench's own child whose command line runs `src/cli.ts serve`.
 * RunningService does not expose it, and /proc is where the memory figures come from anyway, so
 * this bench is Linux-only by nature.
 */
export function findServicePid(): number {
  if (process.platform !== 'linux') throw new Error('the soak reads the service memory from /proc: Linux only');
  const found = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry) && isServiceChild(Number(entry)));
  if (found.length !== 1) throw new Error(`expected one service child of pid ${process.pid}, found ${found.length}`);
  return Number(found[0]);
}

function isServiceChild(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The fields after the command name (which may hold spaces): state, then the parent pid.
    const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return parent === process.pid && argv.includes('src/cli.ts') && argv.includes('serve');
  } catch {
    return false; // a process that ended while the directory was read
  }
}

export interface ProcMemory {
  /** VmRSS: resident now. */
  rssMb: number;
  /** VmHWM: the most ever resident, start-up included; the kernel's figure, so no spike between samples escapes it. */
  hwmMb: number;
}

/** VmRSS and VmHWM of /proc/<pid>/status; undefined once the process is gone. */
export function readProcMemory(pid: number): ProcMemory | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1] ?? NaN);
    const [rss, hwm] = [kb('VmRSS'), kb('VmHWM')];
    return Number.isNaN(rss) || Number.isNaN(hwm) ? undefined : { rssMb: rss / 1024, hwmMb: hwm / 1024 };
  } catch {
    return undefined;
  }
}

/** The V8 heap beside the RSS, as the service's prom-client default metrics report them. */
export interface HeapReading {
  heapUsedMb: number;
  heapTotalMb: number;
  externalMb: number;
  /** process_resident_memory_bytes: the service's own VmRSS, at the scrape. */
  residentMb: number;
}

const HEAP_METRICS = {
  heapUsedMb: 'nodejs_heap_size_used_bytes',
  heapTotalMb: 'nodejs_heap_size_total_bytes',
  externalMb: 'nodejs_external_memory_bytes',
  residentMb: 'process_resident_memory_bytes',
} as const;

/**
 * One scrape of `GET /metrics` on the service's port (open unless METRICS_TOKEN is set; the bench's
 * environment reaches the child, so the same token is sent). Undefined when it does not answer.
 */
export async function scrapeHeap(address: string, token: string | undefined): Promise<HeapReading | undefined> {
  try {
    const response = await fetch(`${address}/metrics`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      signal: AbortSignal.timeout(5_000),
    });
    if (!response.ok) return undefined;
    const text = await response.text();
    const reading: Partial<HeapReading> = {};
    for (const [key, name] of Object.entries(HEAP_METRICS) as Array<[keyof HeapReading, string]>) {
      const value = Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
      if (Number.isNaN(value)) return undefined;
      reading[key] = value / MB;
    }
    return reading as HeapReading;
  } catch {
    return undefined;
  }
}

/**
 * Calls `take` now and every `intervalMs` until the returned stop, which resolves to the readings
 * taken (an undefined one is left out). A timer rather than a loop, so a slow asynchronous reading
 * (a scrape queued behind the load) does not delay the next one.
 */
export function sampleEvery<T extends object>(
  intervalMs: number,
  take: () => T | undefined | Promise<T | undefined>,
): () => Promise<Array<Sample<T>>> {
  const startedAt = performance.now();
  const samples: Array<Sample<T>> = [];
  const pending: Array<Promise<void>> = [];
  const tick = () => {
    const atSeconds = (performance.now() - startedAt) / 1000;
    pending.push(
      Promise.resolve(take()).then((value) => {
        if (value) samples.push({ ...value, atSeconds });
      }),
    );
  };
  tick();
  const timer = setInterval(tick, intervalMs);
  return async () => {
    clearInterval(timer);
    await Promise.all(pending);
    return samples.sort((a, b) => a.atSeconds - b.atSeconds);
  };
}
