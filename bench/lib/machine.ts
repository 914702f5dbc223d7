import { cpus, totalmem } from 'node:os';

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  postgres: string;
  /** On a Citus cluster: `citus_version()` and its nodes; absent on PostgreSQL. */
  citus?: string;
}

export function describeMachine(postgres: string, citus?: string): Machine {
  const cores = cpus();
  return {
    cpu: cores[0]?.model.trim() ?? 'unknown',
    cores: cores.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    postgres,
    ...(citus === undefined ? {} : { citus }),
  };
}

/** CPU use over one measured interval: of the whole host, and of the service process. */
export interface CpuUse {
  /** Busy share of all cores, 0–100. */
  hostBusyPercent: number;
  /** Cores the service kept busy on average (1.0 = one full core); undefined when unknown. */
  serviceCores: number | undefined;
  /** Cores the bench process (the load generator) kept busy. */
  benchCores: number;
}

/** Starts measuring; the returned function ends the interval and reports it. */
export function measureCpu(serviceCpuSeconds: () => number | undefined): () => CpuUse {
  const hostBefore = hostTimes();
  const serviceBefore = serviceCpuSeconds();
  const benchBefore = process.cpuUsage();
  const startedAt = performance.now();
  return () => {
    const hostAfter = hostTimes();
    const serviceAfter = serviceCpuSeconds();
    const wallSeconds = (performance.now() - startedAt) / 1000;
    const total = hostAfter.total - hostBefore.total;
    const bench = process.cpuUsage(benchBefore);
    return {
      hostBusyPercent: total > 0 ? (100 * (hostAfter.busy - hostBefore.busy)) / total : 0,
      serviceCores:
        serviceBefore === undefined || serviceAfter === undefined
          ? undefined
          : (serviceAfter - serviceBefore) / wallSeconds,
      benchCores: (bench.user + bench.system) / 1e6 / wallSeconds,
    };
  };
}

function hostTimes(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const { times } of cpus()) {
    const all = times.user + times.nice + times.sys + times.irq + times.idle;
    total += all;
    busy += all - times.idle;
  }
  return { busy, total };
}

/**
 * How busy the host was in the second before the load, as a percentage of all cores: other work
 * (a test run, a build) skews every figure after it, so each report states it and a busy host warns.
 */
export async function hostBusyBefore(progress: (message: string) => void): Promise<number> {
  const idle = measureCpu(() => undefined);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const busy = idle().hostBusyPercent;
  if (busy > 10) progress(`warning: the host was ${busy.toFixed(0)}% busy before the run`);
  return busy;
}
