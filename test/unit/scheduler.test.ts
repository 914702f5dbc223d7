import type { FastifyBaseLogger } from 'fastify';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Scheduler } from '../../src/jobs/scheduler.js';
import type { SweepReport } from '../../src/jobs/sweeps.js';

const INTERVAL = 60_000;
const empty: SweepReport = { programExpiries: 0, transitions: 0, reminders: 0 };

/** A scheduler whose rounds are counted and held open until `finishRound`, with no database. */
function countingScheduler(logger: FastifyBaseLogger = pino({ level: 'silent' })) {
  let rounds = 0;
  let finish: ((outcome: SweepReport | Error) => void) | undefined;
  const scheduler = new Scheduler({
    intervalMs: INTERVAL,
    logger,
    round: () => {
      rounds++;
      return new Promise<SweepReport>((resolve, reject) => {
        finish = (outcome) => (outcome instanceof Error ? reject(outcome) : resolve(outcome));
      });
    },
  });
  return {
    scheduler,
    rounds: () => rounds,
    finishRound: (outcome: SweepReport | Error = empty) => finish?.(outcome),
  };
}

/** Lets the scheduler's loop run up to its next wait, moving the fake clock by `ms`. */
const elapse = (ms = 0) => vi.advanceTimersByTimeAsync(ms);

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Scheduler', () => {
  it('starts another round at once when woken during a round', async () => {
    const { scheduler, rounds, finishRound } = countingScheduler();
    scheduler.start();
    await elapse();
    expect(rounds()).toBe(1);
    scheduler.wake(); // the clock moved while the first round ran
    finishRound();
    await elapse();
    expect(rounds()).toBe(2);
    finishRound();
    await elapse();
    expect(rounds()).toBe(2); // no wake: it sleeps for the interval
    scheduler.wake();
    await elapse();
    expect(rounds()).toBe(3);
    const stopped = scheduler.stop();
    finishRound();
    await stopped;
  });

  it('runs the next round one interval after the last one ended', async () => {
    const { scheduler, rounds, finishRound } = countingScheduler();
    scheduler.start();
    await elapse(INTERVAL); // the round is still running: the interval counts from its end
    expect(rounds()).toBe(1);
    finishRound();
    await elapse(INTERVAL - 1);
    expect(rounds()).toBe(1);
    await elapse(1);
    expect(rounds()).toBe(2);
    const stopped = scheduler.stop();
    finishRound();
    await stopped;
    await elapse(INTERVAL);
    expect(rounds()).toBe(2);
  });

  it('logs a failed round and tries again after the interval', async () => {
    const logger = pino({ level: 'silent' });
    const error = vi.spyOn(logger, 'error');
    const { scheduler, rounds, finishRound } = countingScheduler(logger);
    scheduler.start();
    await elapse();
    const failure = new Error('database went away');
    finishRound(failure);
    await elapse();
    expect(error).toHaveBeenCalledWith({ err: failure }, 'scheduler round failed; retrying next round');
    await elapse(INTERVAL);
    expect(rounds()).toBe(2);
    const stopped = scheduler.stop();
    finishRound();
    await stopped;
  });

  it('stops after the round in progress ends, without waiting for the interval', async () => {
    const { scheduler, rounds, finishRound } = countingScheduler();
    scheduler.start();
    await elapse();
    let stopped = false;
    const stopping = scheduler.stop().then(() => (stopped = true));
    await elapse();
    expect(stopped).toBe(false); // the round still runs
    finishRound();
    await stopping;
    expect(rounds()).toBe(1);
  });
});
