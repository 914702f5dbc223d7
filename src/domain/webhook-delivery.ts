import { createHmac } from 'node:crypto';
import type { Temporal } from 'temporal-polyfill';
import { ATTEMPTS_PER_SCHEDULE, RETRY_DELAYS_MS } from '../model/event.js';

/**
 * The rules of one webhook attempt (SPEC §9.4), without I/O: the Standard Webhooks signature and
 * headers, what an answer (or its absence) means, and when the next attempt is due.
 */

/**
 * `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, keyed with the base64-decoded part of
 * the `whsec_` secret, so that any Standard Webhooks library verifies it.
 */
export function webhookSignature(secret: string, webhookId: string, timestampSeconds: number, body: string): string {
  const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
  const mac = createHmac('sha256', key).update(`${webhookId}.${timestampSeconds}.${body}`).digest('base64');
  return `v1,${mac}`;
}

export interface SignedRequest {
  webhookId: string;
  secret: string;
  /** Unix seconds of this attempt, on real time (receivers compare it with their own clock). */
  timestampSeconds: number;
  body: string;
  /** The subscription's own headers; they never replace the ones the format defines. */
  customHeaders: Record<string, string>;
}

export function webhookHeaders(request: SignedRequest): Record<string, string> {
  const { webhookId, secret, timestampSeconds, body } = request;
  return {
    ...request.customHeaders,
    'content-type': 'application/json',
    'webhook-id': webhookId,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': webhookSignature(secret, webhookId, timestampSeconds, body),
  };
}

/** How one attempt ended: a 2xx, or the status (if any) and a short reason. */
export type AttemptOutcome =
  { succeeded: true; responseStatus: number } | { succeeded: false; responseStatus: number | null; error: string };

/** A receiver's answer: 2xx succeeds; a redirect is not followed (the URL is what was subscribed). */
export function outcomeOfStatus(status: number): AttemptOutcome {
  if (status >= 200 && status < 300) return { succeeded: true, responseStatus: status };
  if (status >= 300 && status < 400) {
    return { succeeded: false, responseStatus: status, error: `redirect (HTTP ${status}) is not followed` };
  }
  return { succeeded: false, responseStatus: status, error: `HTTP ${status}` };
}

const ERROR_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found (DNS lookup timed out)',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  EPIPE: 'connection closed',
  UND_ERR_SOCKET: 'connection closed by the receiver',
  UND_ERR_CLOSED: 'connection closed by the receiver',
  UND_ERR_HEADERS_OVERFLOW: 'response headers too large',
  UND_ERR_INVALID_ARG: 'invalid request (check the subscription headers)',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'TLS: self-signed certificate',
  SELF_SIGNED_CERT_IN_CHAIN: 'TLS: self-signed certificate in chain',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'TLS: certificate cannot be verified',
  CERT_HAS_EXPIRED: 'TLS: certificate expired',
  ERR_TLS_CERT_ALTNAME_INVALID: 'TLS: certificate does not match the host',
};

const MAX_ERROR_LENGTH = 200;

/** A failure without an answer (what `fetch` threw), as a short reason that holds no secret. */
export function outcomeOfError(error: unknown, timeoutMs: number): AttemptOutcome {
  return { succeeded: false, responseStatus: null, error: reasonOf(error, timeoutMs) };
}

function reasonOf(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && error.name === 'TimeoutError') return `timeout after ${timeoutMs} ms`;
  for (let cause: unknown = error, depth = 0; cause instanceof Error && depth < 5; depth++) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string' && code in ERROR_CODES) return ERROR_CODES[code]!;
    if (typeof code === 'string' && code.startsWith('ERR_TLS')) return `TLS: ${code}`;
    if (cause.cause === undefined) {
      const text = cause.message || cause.name;
      return text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH - 1)}…` : text;
    }
    cause = cause.cause;
  }
  return 'request failed';
}

/** After attempt n of a schedule (1-based): done, failed for good, or due again at an instant. */
export type AttemptConsequence =
  | { status: 'SUCCEEDED'; nextAttemptAt: null }
  | { status: 'FAILED'; nextAttemptAt: null }
  | { status: 'PENDING'; nextAttemptAt: Temporal.Instant };

/** The most a retry is moved later, as a fraction of its delay: spreads a receiver's backlog. */
export const RETRY_JITTER = 0.1;

/**
 * What follows attempt `scheduleAttempt` (1-based, within the current schedule) that ended at
 * `endedAt` on the service clock. `random` is in [0, 1).
 */
export function consequenceOf(
  outcome: AttemptOutcome,
  scheduleAttempt: number,
  endedAt: Temporal.Instant,
  random: number,
): AttemptConsequence {
  if (outcome.succeeded) return { status: 'SUCCEEDED', nextAttemptAt: null };
  if (scheduleAttempt >= ATTEMPTS_PER_SCHEDULE) return { status: 'FAILED', nextAttemptAt: null };
  return { status: 'PENDING', nextAttemptAt: endedAt.add({ milliseconds: retryDelayMs(scheduleAttempt, random) }) };
}

/** The delay after failed attempt n (1 ≤ n < 8), up to RETRY_JITTER later than the schedule's. */
export function retryDelayMs(failedAttempt: number, random: number): number {
  const base = RETRY_DELAYS_MS[Math.min(Math.max(failedAttempt, 1), RETRY_DELAYS_MS.length) - 1]!;
  return Math.round(base * (1 + RETRY_JITTER * random));
}
