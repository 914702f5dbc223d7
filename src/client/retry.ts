/**
 * The retry schedule of both bulk commands (SPEC §2a: at most 5 retries per batch within 30 s):
 * exponential backoff from 0.5 s with equal jitter (half the delay fixed, half random), so
 * retries of batches that failed together spread out, yet never come sooner than half the
 * schedule. `Retry-After` replaces the delay when it is longer.
 */
export const MAX_RETRIES = 5;
export const RETRY_WINDOW_MS = 30_000;
const BASE_DELAY_MS = 500;
/** Longest wait for one answer: a service that takes longer counts as not answering. */
const ATTEMPT_TIMEOUT_MS = 20_000;

export function backoffMs(retry: number, random: () => number = Math.random): number {
  const full = BASE_DELAY_MS * 2 ** retry;
  return full / 2 + (random() * full) / 2;
}

/** What one attempt came to: a value to keep, or a reason to try again (after at least `afterMs`). */
export interface Verdict<T> {
  done: boolean;
  value: T;
  afterMs?: number;
}

/**
 * Runs `attempt` until it is done, 5 retries are spent, or the next one would start after the
 * 30 s window; answers the last attempt's value either way. Each attempt is told how long it may
 * wait for an answer, so that the window also bounds a service that accepts and never answers.
 */
export async function withRetries<T>(attempt: (timeoutMs: number) => Promise<Verdict<T>>): Promise<T> {
  const deadline = performance.now() + RETRY_WINDOW_MS;
  for (let retry = 0; ; retry++) {
    const timeoutMs = Math.round(Math.max(1_000, Math.min(ATTEMPT_TIMEOUT_MS, deadline - performance.now())));
    const verdict = await attempt(timeoutMs);
    if (verdict.done || retry === MAX_RETRIES) return verdict.value;
    const waitMs = Math.max(backoffMs(retry), verdict.afterMs ?? 0);
    if (performance.now() + waitMs >= deadline) return verdict.value;
    await new Promise((resolve) => setTimeout(resolve, waitMs));
  }
}

/** `Retry-After` in seconds or as an HTTP date, in milliseconds; undefined when absent or unreadable. */
export function retryAfterMs(header: string | string[] | undefined, nowMs: number): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}
