import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Scheduler } from '../../src/jobs/scheduler.js';
import type { SweepReport } from '../../src/jobs/sweeps.js';

const empty: SweepReport = { programExpiries: 0, transitions: 0, reminders: 0 };

/** A scheduler whose rounds are counted and can be held open, with no database. */
function countingScheduler() {
  const scheduler = new Scheduler({
    db: undefined as never,
    clock: undefined as never,
    batchSize: 1,
    intervalMs: 60_000,
    logger: pino({ level: 'silent' }),
  });
  let rounds = 0;
  let release: (() => void) | undefined;
  scheduler.runOnce = async () => {
    rounds++;
    await new Promise<void>((resolve) => (release = resolve));
    return empty;
  };
  return { scheduler, rounds: () => rounds, finishRound: () => release?.() };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 10));

describe('Scheduler', () => {
  it('starts another round at once when woken during a round', async () => {
    const { scheduler, rounds, finishRound } = countingScheduler();
    scheduler.start();
    await tick();
    expect(rounds()).toBe(1);
    scheduler.wake(); // the clock moved while the first round ran
    finishRound();
    await tick();
    expect(rounds()).toBe(2);
    finishRound();
    await tick();
    expect(rounds()).toBe(2); // no wake: it sleeps for the interval
    scheduler.wake();
    await tick();
    expect(rounds()).toBe(3);
    const stopped = scheduler.stop();
    finishRound();
    await stopped;
  });
});
