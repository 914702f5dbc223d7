import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { DataDirLockError, lockDataDir } from '../../src/db/data-dir-lock.js';
import {
  processIdentity as identity,
  readDataDirLock,
  tempDir,
  writeDataDirLock as writeLock,
} from '../support/process.js';

// The embedded database's lock file: who holds it, when a holder counts as alive, and takeover.
const onLinux = process.platform === 'linux';
const folders: string[] = [];
afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

function dataDir(): string {
  const folder = tempDir('pp-lock-');
  folders.push(folder);
  return folder;
}

const bootId = () => identity(process.pid).bootId;

function expectRefused(dir: string, pid: number): void {
  let refusal: unknown;
  try {
    lockDataDir(dir)();
  } catch (error) {
    refusal = error;
  }
  expect(refusal).toBeInstanceOf(DataDirLockError);
  expect((refusal as Error).message).toBe(
    `DATA_DIR ${dir} is in use by process ${pid}; the embedded database serves one process. ` +
      'Stop that process, choose another DATA_DIR, or run on PostgreSQL (DATABASE_URL)',
  );
}

/** The pid of a process that has ended. */
function pidOfEndedProcess(): number {
  return spawnSync(process.execPath, ['-e', '']).pid!;
}

describe.skipIf(!onLinux)('the DATA_DIR lock on Linux (pid, start time and boot id: /proc)', () => {
  it('names its holder by pid, start time and boot id, and is gone once released', () => {
    const dir = dataDir();
    const release = lockDataDir(dir);
    expect(readDataDirLock(dir)).toEqual(identity(process.pid));
    release();
    expect(readdirSync(dir)).toEqual([]);
    lockDataDir(dir)();
  });

  it('refuses while its holder lives, this very process included', () => {
    const dir = dataDir();
    const release = lockDataDir(dir);
    expectRefused(dir, process.pid);
    release();
  });

  it('refuses a lock whose pid, start time and boot id match a live process', () => {
    const dir = dataDir();
    writeLock(dir, identity(process.ppid));
    expectRefused(dir, process.ppid);
  });

  it('takes over a lock whose pid now belongs to another process (another start time)', () => {
    const dir = dataDir();
    writeLock(dir, { pid: process.ppid, startTime: '1', bootId: bootId() });
    lockDataDir(dir)();
  });

  it('takes over a lock written before a reboot', () => {
    const dir = dataDir();
    writeLock(dir, { ...identity(process.ppid), bootId: 'another-boot' });
    lockDataDir(dir)();
  });

  it('takes over the lock of a process that has ended', () => {
    const dir = dataDir();
    writeLock(dir, { pid: pidOfEndedProcess(), startTime: '1', bootId: bootId() });
    lockDataDir(dir)();
  });

  it('judges a lock that names only a pid (an older version, another system) by that pid', () => {
    const live = dataDir();
    writeLock(live, String(process.ppid));
    expectRefused(live, process.ppid);
    const ended = dataDir();
    writeLock(ended, String(pidOfEndedProcess()));
    lockDataDir(ended)();
  });

  it('takes over a lock it cannot read', () => {
    const dir = dataDir();
    writeLock(dir, 'not a lock');
    lockDataDir(dir)();
  });

  it('leaves alone, when released, a lock that another process has taken since', () => {
    const dir = dataDir();
    const release = lockDataDir(dir);
    // Another process took this one for gone: it removed this one's file and put its own lock in.
    rmSync(join(dir, 'service.lock'), { recursive: true });
    writeLock(dir, identity(process.ppid));
    release();
    expect(readDataDirLock(dir)).toEqual(identity(process.ppid));
    expectRefused(dir, process.ppid);
  });

  it('lets one of several processes that start together on a stale lock win, and only one', async () => {
    const contenders = await startContenders(4);
    try {
      for (let round = 0; round < 5; round++) {
        const dir = dataDir();
        writeLock(dir, { pid: process.pid, startTime: '1', bootId: bootId() });
        const outcomes = await contenders.lock(dir);
        expect(outcomes.filter((o) => o === 'won')).toHaveLength(1);
        expect(outcomes.filter((o) => o.startsWith(`DATA_DIR ${dir} is in use by process`))).toHaveLength(3);
      }
    } finally {
      await contenders.end();
    }
  });
});

/**
 * `count` processes that load the lock code, and on each folder they are sent, try to lock it
 * all at the same moment. Each answers `won` or its refusal, and holds what it won until the end.
 */
async function startContenders(count: number) {
  const script = `
    import { createInterface } from 'node:readline';
    import { lockDataDir } from './src/db/data-dir-lock.ts';
    process.stdout.write('ready\\n');
    for await (const dir of createInterface({ input: process.stdin })) {
      try { lockDataDir(dir); process.stdout.write('won\\n'); }
      catch (error) { process.stdout.write(error.message + '\\n'); }
    }`;
  const children = Array.from({ length: count }, () =>
    spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['pipe', 'pipe', 'inherit'],
    }),
  );
  const lines = children.map((child) => createInterface({ input: child.stdout! })[Symbol.asyncIterator]());
  const answers = () => Promise.all(lines.map(async (line) => (await line.next()).value as string));
  expect(await answers()).toEqual(children.map(() => 'ready'));
  return {
    async lock(dir: string): Promise<string[]> {
      for (const child of children) child.stdin!.write(`${dir}\n`);
      return answers();
    },
    async end(): Promise<void> {
      for (const child of children) child.stdin!.end();
      await Promise.all(children.map((child) => new Promise((resolve) => child.once('close', resolve))));
    },
  };
}
