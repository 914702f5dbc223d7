import { Temporal } from 'temporal-polyfill';

/** The one source of "now" for every rule and job; tests and the sandbox move it. */
export interface Clock {
  now(): Temporal.Instant;
}

export const systemClock: Clock = {
  now: () => Temporal.Now.instant(),
};

/** A clock that stands still until moved: for tests that must not depend on the wall clock. */
export class ManualClock implements Clock {
  constructor(private current: Temporal.Instant) {}
  now(): Temporal.Instant {
    return this.current;
  }
  set(instant: Temporal.Instant | string): void {
    this.current = typeof instant === 'string' ? Temporal.Instant.from(instant) : instant;
  }
  advance(duration: Temporal.DurationLike): void {
    this.current = this.current.add(duration);
  }
}
