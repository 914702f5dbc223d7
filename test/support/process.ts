import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ServiceProcess {
  url: string;
  child: ChildProcess;
  output(): string;
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>;
  /** Resolves with the exit code when the process has ended, however it ended. */
  exited: Promise<number | null>;
}

export interface RunOptions {
  /** A command the service runs under, such as `['unshare', '-pf', '--mount-proc']`. */
  wrapper?: string[];
  /** A compiled `cli.js` to run with plain Node.js instead of `src/cli.ts` under tsx. */
  cli?: string;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Runs `src/cli.ts <args>` as its own process, as `npm start` does (or the compiled `options.cli`). */
export function runCli(args: string[], env: Record<string, string>, options: RunOptions = {}) {
  const entry = options.cli ? [options.cli] : ['--import', 'tsx', 'src/cli.ts'];
  const [command, ...commandArgs] = [...(options.wrapper ?? []), process.execPath, ...entry];
  const child = spawn(command!, [...commandArgs, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    stdout += chunk.toString();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    stderr += chunk.toString();
  });
  // 'close', not 'exit': every byte the process wrote has been read by then.
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return { child, output: () => output, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Starts the service and waits until /ready answers. */
export async function startService(env: Record<string, string>, options: RunOptions = {}): Promise<ServiceProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const run = runCli(['serve'], { HOST: '127.0.0.1', PORT: String(port), ...env }, options);
  let exitCode: number | null | undefined;
  void run.exited.then((code) => (exitCode = code));
  for (let attempt = 0; attempt < 300; attempt++) {
    if (exitCode !== undefined) throw new Error(`service exited with ${exitCode}:\n${run.output()}`);
    try {
      if ((await fetch(`${url}/ready`)).ok) break;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    child: run.child,
    output: run.output,
    stop: async () => {
      if (exitCode === undefined) run.child.kill('SIGTERM');
      return run.exited;
    },
    exited: run.exited,
  };
}

/** What the embedded database's lock records of a process on Linux, read here from /proc. */
export function processIdentity(pid: number): { pid: number; startTime: string; bootId: string } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Field 22, counted after the command name (field 2, in parentheses).
  const startTime = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[22 - 3]!;
  return { pid, startTime, bootId: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() };
}

const lockPath = (dataDir: string) => join(dataDir, 'service.lock');

/** Leaves a lock in DATA_DIR as if `holder` had taken it; a string is written as an older version's lock file. */
export function writeDataDirLock(dataDir: string, holder: object | string): void {
  mkdirSync(dataDir, { recursive: true });
  if (typeof holder === 'string') return writeFileSync(lockPath(dataDir), holder);
  mkdirSync(lockPath(dataDir));
  writeFileSync(join(lockPath(dataDir), 'holder-test.json'), JSON.stringify(holder));
}

/** The holder named by DATA_DIR's lock; undefined when there is no lock. */
export function readDataDirLock(dataDir: string): unknown {
  if (!existsSync(lockPath(dataDir))) return undefined;
  if (!statSync(lockPath(dataDir)).isDirectory()) return readFileSync(lockPath(dataDir), 'utf8');
  const files = readdirSync(lockPath(dataDir));
  if (files.length !== 1) throw new Error(`the lock holds ${files.length} files: ${files.join(', ')}`);
  return JSON.parse(readFileSync(join(lockPath(dataDir), files[0]!), 'utf8'));
}
