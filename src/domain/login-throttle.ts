import type { Temporal } from 'temporal-polyfill';
import type { DB } from '../db/database.js';
import { rankedLoginFailure, recordLoginFailure } from '../db/repositories/login-failures.repository.js';
import type { FailureProbe } from '../db/repositories/tills.repository.js';
import type { Clock } from './clock.js';
import { fingerprint } from './credentials.js';

export const MAX_FAILED_LOGINS = 10;
export const FAILED_LOGIN_WINDOW_SECONDS = 300;

/**
 * SPEC §10: once a username (Basic) or key (token generation) has failed MAX_FAILED_LOGINS
 * times within the window, every attempt with it, right or wrong, is refused until the oldest
 * of those failures leaves the window. Failures live in the database, so every instance sees
 * the same count; attempts refused here are not counted, and a success does not reset the
 * count (an attacker could otherwise hide behind a busy till's good requests).
 */
export class LoginThrottle {
  constructor(
    private readonly db: DB,
    private readonly clock: Clock,
  ) {}

  /**
   * What decides, now, whether `subject` is throttled: the oldest of its last MAX_FAILED_LOGINS
   * failures within the window. A login reads it with its credential, in one statement.
   */
  probe(subject: LoginSubject): FailureProbe {
    const now = this.clock.now();
    return {
      subject: subject.id,
      since: now.subtract({ seconds: FAILED_LOGIN_WINDOW_SECONDS }),
      until: now,
      rank: MAX_FAILED_LOGINS,
    };
  }

  /** The probed failure read on its own, for a login whose credential read does not include it. */
  readProbe(probe: FailureProbe): Promise<Temporal.Instant | undefined> {
    return rankedLoginFailure(this.db, probe);
  }

  /** Seconds until the probed subject may try again, or undefined when it may try now. */
  retryAfter(probe: FailureProbe, rankedFailure: Temporal.Instant | undefined): number | undefined {
    if (!rankedFailure) return undefined;
    const freeAt = rankedFailure.epochMilliseconds + FAILED_LOGIN_WINDOW_SECONDS * 1000;
    return Math.max(1, Math.ceil((freeAt - probe.until.epochMilliseconds) / 1000));
  }

  async recordFailure(subject: LoginSubject): Promise<void> {
    const now = this.clock.now();
    await recordLoginFailure(this.db, subject.id, now, now.subtract({ seconds: FAILED_LOGIN_WINDOW_SECONDS }));
  }
}

/**
 * What failures are counted against. A fixed-length hash: a username or key is whatever the
 * caller sent (any length), and the table should not collect them in clear.
 */
export interface LoginSubject {
  id: string;
}

export function loginSubject(kind: 'basic' | 'oauth', name: string): LoginSubject {
  return { id: fingerprint(kind, name) };
}
