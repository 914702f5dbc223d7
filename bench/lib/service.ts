import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import type { Declarations } from '../../src/domain/configuration/declarations.js';
import { LOYALTY_PROGRAM_ID, ORG_ID } from './bench-database.js';
import type { ServerMode } from './settings.js';

export const TILL = { username: 'bench.till', password: 'bench-password' } as const;

/**
 * Programs of Goldstar's shape (EXTERNAL, tiers Silver and Gold). Each side links every seeded
 * customer to its first program, then to its second, ...: three programs carry three levels of
 * 10 s on a 2-core machine within 100,000 customers. The raw SQL side and pgbench have their own
 * programs, so all sides write the same rows to the same tables without ever meeting.
 */
const PROGRAMS_PER_SIDE = 3;
const programsNamed = (name: string) =>
  Array.from({ length: PROGRAMS_PER_SIDE }, (_, i) => (i === 0 ? name : `${name}_${i + 1}`));
export const HTTP_PROGRAMS = programsNamed('Goldstar');
export const RAW_SQL_PROGRAMS = programsNamed('Coalition');
export const PGBENCH_PROGRAMS = programsNamed('Pgbench');

const declarations: Declarations = {
  orgs: [
    {
      id: ORG_ID,
      name: 'Bench org',
      timezone: 'UTC',
      loyaltyPrograms: [
        {
          id: LOYALTY_PROGRAM_ID,
          name: 'Bench loyalty',
          partnerPrograms: [
            ...[...HTTP_PROGRAMS, ...RAW_SQL_PROGRAMS, ...PGBENCH_PROGRAMS].map((name) => ({
              name,
              type: 'EXTERNAL' as const,
              tiers: ['Silver', 'Gold'],
            })),
            // Declared for a realistic catalogue; the bench links EXTERNAL programs only.
            { name: 'SPP_1', type: 'SUPPLEMENTARY', membershipCycle: { unit: 'MONTHS', value: 12 } },
          ],
        },
      ],
      tills: [{ ...TILL, accessGroups: ['DEFAULT'] }],
    },
  ],
};

/** Writes the bench's declarations to a temporary YAML file; returns its path and a remover. */
export function writeConfigFile(): { path: string; remove: () => Promise<void> } {
  const path = join(tmpdir(), `pp-bench-${randomBytes(4).toString('hex')}.yaml`);
  writeFileSync(path, stringify(declarations));
  return { path, remove: async () => rmSync(path, { force: true }) };
}

export interface RunningService {
  address: string;
  /** The child's process id (child mode), for readings of /proc/<pid>. */
  pid: number | undefined;
  /** CPU seconds the service's process has used so far (child mode on Linux only: in-process, it shares the bench's). */
  cpuSeconds(): number | undefined;
  /** Why the service is no longer running (a crash, a signal from elsewhere), or undefined while it runs. */
  exitReason(): string | undefined;
  stop(): Promise<void>;
}

export interface ServiceOptions {
  mode: ServerMode;
  databaseUrl: string;
  configFile: string;
  /** Directory for a V8 CPU profile of the child, or undefined for none. */
  cpuProfileDir: string | undefined;
  /**
   * Environment for the service over the bench's own and the settings above (ROLE, ADMIN_TOKEN,
   * SECRETS_KEY, WEBHOOK_CONCURRENCY, ...). Unset: the bench's environment reaches it unchanged.
   */
  env?: Record<string, string>;
  /**
   * Child mode: tells when the child is ready, instead of `GET /ready`, for a process that serves
   * no HTTP (ROLE=worker). Its `address` is then a port nothing listens on.
   */
  isReady?: () => Promise<boolean>;
  /**
   * Child mode: the compiled service (its `dist/cli.js`) instead of the sources through tsx, as
   * `node dist/cli.js serve` runs it after `npm run build`.
   */
  compiledCli?: string;
}

export function startService(options: ServiceOptions): Promise<RunningService> {
  const env = {
    ...process.env,
    DATABASE_URL: options.databaseUrl,
    CONFIG_FILE: options.configFile,
    LOG_LEVEL: 'warn',
    ...options.env,
  };
  return options.mode === 'child'
    ? startChild(env, options.cpuProfileDir, options.isReady, options.compiledCli)
    : startInProcess(env);
}

/**
 * The realistic setup: the service in its own process, started the way production starts it,
 * so it does not share an event loop (or a core) with the load generator.
 */
async function startChild(
  env: NodeJS.ProcessEnv,
  cpuProfileDir: string | undefined,
  isReady: (() => Promise<boolean>) | undefined,
  compiledCli: string | undefined,
): Promise<RunningService> {
  // A free port picked here rather than parsed from logs: at LOG_LEVEL=warn nothing is logged
  // on start, and info level would log every request and skew the measurement.
  const port = await freePort();
  const profiling = cpuProfileDir ? ['--cpu-prof', '--cpu-prof-dir', cpuProfileDir] : [];
  const entry = compiledCli ? [compiledCli] : ['--import', 'tsx', 'src/cli.ts'];
  const child = spawn(process.execPath, [...profiling, ...entry, 'serve'], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    env: { ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  let exitReason: string | undefined;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exitReason = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      resolve();
    }),
  );
  const address = `http://127.0.0.1:${port}`;
  try {
    await waitUntilReady(address, () => exitReason, isReady);
  } catch (error) {
    await stopChild(child, exited);
    throw error;
  }
  return {
    address,
    pid: child.pid,
    cpuSeconds: () => linuxCpuSeconds(child.pid),
    exitReason: () => exitReason,
    stop: () => stopChild(child, exited),
  };
}

/** The simple setup: one process, one event loop shared by service and load generator. */
async function startInProcess(env: NodeJS.ProcessEnv): Promise<RunningService> {
  // Imported only here, so child mode never loads the service into the bench process.
  const { loadConfig } = await import('../../src/config.js');
  const { startServer } = await import('../../src/server.js');
  const server = await startServer(loadConfig({ ...env, PORT: '0' }));
  if (server.address === undefined) {
    await server.close();
    throw new Error('the service does not serve HTTP in this ROLE: unset ROLE or set it to api or all');
  }
  return {
    address: server.address,
    pid: undefined,
    cpuSeconds: () => undefined,
    exitReason: () => undefined,
    stop: () => server.close(),
  };
}

/** A port free now, for a child that must be told its port before it starts. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

async function waitUntilReady(
  address: string,
  exitReason: () => string | undefined,
  isReady: (() => Promise<boolean>) | undefined,
): Promise<void> {
  const deadline = performance.now() + 60_000;
  const probe =
    isReady ??
    (() =>
      fetch(`${address}/ready`).then(
        (r) => r.ok,
        () => false,
      ));
  while (performance.now() < deadline) {
    const gone = exitReason();
    if (gone) throw new Error(`the service ${gone} before it was ready`);
    if (await probe()) return;
    // A custom probe polls faster: the webhooks bench times a worker from the moment it is ready.
    await new Promise((resolve) => setTimeout(resolve, isReady ? 20 : 200));
  }
  throw new Error(
    isReady ? 'the service was not ready within 60 s' : `the service did not answer ${address}/ready within 60 s`,
  );
}

/** SIGTERM lets the service drain and close its pool (and write its CPU profile); SIGKILL after 15 s. */
async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(killer);
}

/** utime + stime from /proc/<pid>/stat, in clock ticks of 1/100 s (USER_HZ on every Linux build). */
export function linuxCpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined || process.platform !== 'linux') return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may itself contain spaces, hence the split at ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}
