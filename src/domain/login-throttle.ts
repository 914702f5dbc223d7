import type { DB } from '../db/database.js';
import { recentLoginFailures, recordLoginFailure } from '../db/repositories/login-failures.repository.js';
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

  /** Seconds until `subject` may try again, or undefined when it may try now. */
  async retryAfter(subject: LoginSubject): Promise<number | undefined> {
    const now = this.clock.now();
    const since = now.subtract({ seconds: FAILED_LOGIN_WINDOW_SECONDS });
    const failures = await recentLoginFailures(this.db, subject.id, since, now, MAX_FAILED_LOGINS);
    const oldest = failures[MAX_FAILED_LOGINS - 1];
    if (!oldest) return undefined;
    const freeAt = oldest.epochMilliseconds + FAILED_LOGIN_WINDOW_SECONDS * 1000;
    return Math.max(1, Math.ceil((freeAt - now.epochMilliseconds) / 1000));
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
