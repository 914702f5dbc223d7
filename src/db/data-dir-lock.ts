import { randomBytes } from 'node:crypto';
import {
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';

/** DATA_DIR cannot be locked. The message says, on one line, who holds it and what to do. */
export class DataDirLockError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataDirLockError';
  }
}

/**
 * What tells a process apart from every other, including a later one given the same pid (after a
 * `kill -9` a restarted container's service is pid 1 again): on Linux its start time (field 22
 * of /proc/<pid>/stat, in clock ticks since boot) and the boot id. Elsewhere only the pid.
 */
interface LockHolder {
  pid: number;
  startTime?: string;
  bootId?: string;
}

const LOCK = 'service.lock';

/**
 * PGlite takes no lock on its folder, and two processes writing one folder corrupt it. So the
 * folder has a lock: `service.lock/`, a directory holding one file that names its holder (a
 * `LockHolder` as JSON, under a name no other acquisition uses). A second process refuses to
 * start while that holder lives, and takes over the lock of a holder that is gone.
 *
 * The lock appears whole or not at all: the directory is made under a name of our own, with our
 * file in it, then renamed to `service.lock`, which fails while `service.lock` holds a file. A
 * stale holder's file is removed by its own name, so what is removed is never a newer holder's;
 * of processes that then race to rename theirs in, one wins and the others see it alive.
 */
export function lockDataDir(dataDir: string): () => void {
  const lockPath = join(dataDir, LOCK);
  const holderFile = `holder-${randomBytes(8).toString('hex')}.json`;
  for (let attempt = 0; attempt < 5; attempt++) {
    const draft = `${lockPath}.${randomBytes(8).toString('hex')}`;
    mkdirSync(draft);
    writeFileSync(join(draft, holderFile), JSON.stringify(holderOf(process.pid)));
    try {
      renameSync(draft, lockPath);
      return () => releaseLock(lockPath, holderFile);
    } catch (error) {
      rmSync(draft, { recursive: true, force: true });
      // Windows answers EPERM where POSIX systems answer ENOTEMPTY or EEXIST.
      if (!['ENOTEMPTY', 'EEXIST', 'ENOTDIR', 'EPERM'].includes((error as NodeJS.ErrnoException).code ?? '')) {
        throw error;
      }
    }
    for (const { path, holder } of holdersOf(lockPath)) {
      if (holder && holderIsAlive(holder)) {
        throw new DataDirLockError(
          `DATA_DIR ${dataDir} is in use by process ${holder.pid}; the embedded database serves one process. ` +
            'Stop that process, choose another DATA_DIR, or run on PostgreSQL (DATABASE_URL)',
        );
      }
      removeStale(path);
    }
    removeIfEmpty(lockPath);
  }
  throw new DataDirLockError(
    `DATA_DIR ${dataDir} could not be locked: other processes keep taking its lock; start again`,
  );
}

function holdersOf(lockPath: string): Array<{ path: string; holder: LockHolder | undefined }> {
  let names: string[];
  try {
    names = readdirSync(lockPath);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return [];
    // A file: the lock of an earlier version, which held only a pid.
    if (code === 'ENOTDIR') names = [''];
    else throw error;
  }
  return names.flatMap((name) => {
    const path = join(lockPath, name);
    const text = readIfPresent(path);
    return text === undefined ? [] : [{ path, holder: parseHolder(text) }];
  });
}

function readIfPresent(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if (['ENOENT', 'EISDIR'].includes((error as NodeJS.ErrnoException).code ?? '')) return undefined;
    throw error;
  }
}

/** Unlinks one stale file; a directory (a new lock where an old lock file was) is left alone. */
function removeStale(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if (!['ENOENT', 'EISDIR', 'EPERM'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error;
  }
}

function releaseLock(lockPath: string, holderFile: string): void {
  rmSync(join(lockPath, holderFile), { force: true });
  removeIfEmpty(lockPath);
}

/** An empty lock is no lock (POSIX renames onto it anyway; Windows does not). */
function removeIfEmpty(lockPath: string): void {
  try {
    rmdirSync(lockPath);
  } catch {
    // Gone, a file, or it holds a holder's file (on release: a successor that took us for gone).
  }
}

function parseHolder(text: string): LockHolder | undefined {
  let value: Partial<LockHolder>;
  try {
    // A bare number is the lock of a version that recorded only the pid.
    value = /^\d+$/.test(text.trim()) ? { pid: Number(text) } : ((JSON.parse(text) ?? {}) as Partial<LockHolder>);
  } catch {
    return undefined;
  }
  if (!Number.isInteger(value.pid) || value.pid! <= 0) return undefined;
  return {
    pid: value.pid!,
    startTime: typeof value.startTime === 'string' ? value.startTime : undefined,
    bootId: typeof value.bootId === 'string' ? value.bootId : undefined,
  };
}

function holderOf(pid: number): LockHolder {
  const startTime = startTimeOf(pid);
  const bootId = currentBootId();
  return {
    pid,
    ...(typeof startTime === 'string' ? { startTime } : {}),
    ...(bootId ? { bootId } : {}),
  };
}

/** Alive means: a process with that pid runs, and where both are known, the same start time and boot. */
function holderIsAlive(holder: LockHolder): boolean {
  const bootId = currentBootId();
  if (holder.bootId && bootId && holder.bootId !== bootId) return false;
  if (holder.startTime !== undefined) {
    const startTime = startTimeOf(holder.pid);
    if (startTime === 'gone') return false;
    if (startTime !== undefined) return startTime === holder.startTime;
  }
  return pidIsAlive(holder.pid);
}

/** Field 22 of /proc/<pid>/stat; `gone` when no such process; undefined where /proc cannot tell. */
function startTimeOf(pid: number): string | 'gone' | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' && statSync('/proc/self', { throwIfNoEntry: false }) ? 'gone' : undefined;
  }
  // Field 2, the command name, is in parentheses and may itself hold spaces and parentheses.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[22 - 3];
}

let bootId: string | undefined | null = null;
function currentBootId(): string | undefined {
  if (bootId === null) {
    try {
      bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || undefined;
    } catch {
      bootId = undefined;
    }
  }
  return bootId;
}

function pidIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
