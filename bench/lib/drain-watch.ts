import type pg from 'pg';
import { relinksActivated, workerGone, type Worker } from './drain-workers.js';
import { epochMs } from './webhook-receiver.js';

const POLL_MS = 250;
const PROGRESS_EVERY_MS = 2_000;

/** One drain, timed on epochMs from the first worker's /ready. */
export interface DrainTiming {
  startedAtMs: number;
  /** The first poll that saw an activation committed; undefined if none was. */
  firstActivationAtMs: number | undefined;
  /** When the first poll that found nothing due was sent; undefined if the timeout came first. */
  drainedAtMs: number | undefined;
  /** Start to drained (to the last poll when incomplete). */
  seconds: number;
  complete: boolean;
}

/**
 * Polls every 250 ms until no membership has a pending relink due. The poll asks for the earliest
 * due one in the order of the partial index of pending relinks, so it stops at the first live
 * entry. `exists` or a `count` of what is left were planned as sequential scans (the statistics,
 * from before the drain, say every row is due), whose cost grows as the drain goes on, up to a
 * full scan once none is left, on the cores the drain needs. The drain ends at the instant the
 * poll that found none was sent: its snapshot is taken then. Progress comes from the workers'
 * counters, which cost PostgreSQL nothing.
 */
export async function watchDrain(options: {
  client: pg.Client;
  workers: readonly Worker[];
  total: number;
  timeoutSeconds: number;
  progress: (message: string) => void;
}): Promise<DrainTiming> {
  const { client, workers, total, timeoutSeconds, progress } = options;
  const startedAtMs = Math.min(...workers.map((w) => w.readyAtMs));
  const deadline = startedAtMs + timeoutSeconds * 1000;
  let firstActivationAtMs: number | undefined;
  let lastProgressMs = epochMs();
  for (;;) {
    const gone = workerGone(workers);
    if (gone) throw new Error(`${gone} during the drain`);
    const sentAtMs = epochMs();
    const due = await anyRelinkDue(client);
    const now = epochMs();
    const activated = await activatedByAll(workers);
    if (firstActivationAtMs === undefined && activated > 0) firstActivationAtMs = now;
    if (!due || now >= deadline) {
      const drainedAtMs = due ? undefined : sentAtMs;
      return {
        startedAtMs,
        firstActivationAtMs,
        drainedAtMs,
        seconds: ((drainedAtMs ?? now) - startedAtMs) / 1000,
        complete: !due,
      };
    }
    if (now - lastProgressMs >= PROGRESS_EVERY_MS) {
      lastProgressMs = now;
      const seconds = (now - startedAtMs) / 1000;
      progress(
        `  ${activated.toLocaleString('en')}/${total.toLocaleString('en')} activated after ${seconds.toFixed(1)} s ` +
          `(${(activated / seconds).toFixed(0)}/s)`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** The sum of every worker's counter of relinks activated. */
export async function activatedByAll(workers: readonly Worker[]): Promise<number> {
  const counts = await Promise.all(workers.map(relinksActivated));
  return counts.reduce((a, b) => a + b, 0);
}

async function anyRelinkDue(client: pg.Client): Promise<boolean> {
  const { rowCount } = await client.query(
    `select pending_relink_start_at from memberships where pending_relink_start_at <= now()
     order by pending_relink_start_at limit 1`,
  );
  return (rowCount ?? 0) > 0;
}
