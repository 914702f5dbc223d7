import { Temporal } from 'temporal-polyfill';
import type { DB } from '../db/database.js';
import { readClockOffset, writeClockOffset } from '../db/repositories/sandbox-clock.repository.js';
import type { Clock } from './clock.js';

/**
 * The sandbox's movable clock (ALLOW_CLOCK_OVERRIDE=true). Moving it stores an offset from real
 * time in the database, so the moved time runs on from where it was set and every process on
 * the database (API instances, workers) follows within one poll. Listeners (the scheduler) are
 * told at once when the time moves.
 */
export class SandboxClock implements Clock {
  private offsetMs: number | null = null;
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners: Array<() => void> = [];

  constructor(
    private readonly db: DB,
    private readonly real: Clock,
  ) {}

  now(): Temporal.Instant {
    const now = this.real.now();
    return this.offsetMs === null ? now : now.add({ milliseconds: this.offsetMs });
  }

  get overridden(): boolean {
    return this.offsetMs !== null;
  }

  onMove(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** Moves the service's time to `instant` (forward or back); null returns to real time. */
  async set(instant: Temporal.Instant | null): Promise<void> {
    const offset = instant === null ? null : instant.epochMilliseconds - this.real.now().epochMilliseconds;
    await writeClockOffset(this.db, offset, this.real.now());
    this.apply(offset);
  }

  /** Reads the shared offset now, then every `intervalMs`. */
  async follow(intervalMs: number): Promise<void> {
    await this.load();
    this.timer = setInterval(() => {
      this.load().catch(() => {
        // The database is unreachable for a moment: keep the offset we have and retry next poll.
      });
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Reads the shared offset once. */
  async load(): Promise<void> {
    this.apply(await readClockOffset(this.db));
  }

  private apply(offset: number | null): void {
    if (offset === this.offsetMs) return;
    this.offsetMs = offset;
    for (const listener of this.listeners) listener();
  }
}
