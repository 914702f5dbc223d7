import { readFileSync } from 'node:fs';

const MB = 1024 * 1024;

/** A reading taken `atSeconds` after its sampler started. */
export type Sample<T> = T & { atSeconds: number };

/**
 * The pid of the service child: the bench's own child whose command line runs `src/cli.ts serve`.
 * RunningService does not expose it, and /proc is where the memory figures come from anyway, so
 * this bench is Linux-only by nature.
 */
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
