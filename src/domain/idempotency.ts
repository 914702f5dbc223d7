import { createHash, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DB } from '../db/database.js';
import {
  claimIdempotencyKey,
  deleteExpiredIdempotencyKeys,
  findIdempotencyKey,
  releaseIdempotencyKey,
  storeIdempotentAnswer,
} from '../db/repositories/idempotency.repository.js';
import type { IdempotencyScope } from '../model/idempotency.js';
import type { Caller } from './caller.js';
import type { Clock } from './clock.js';

/** SPEC §11: a key replays its first answer for 24 hours of the service's clock. */
const IDEMPOTENCY_WINDOW_HOURS = 24;
/**
 * An unanswered claim older than this (by the clock) is taken to be abandoned by a process
 * that died mid-request, and a retry may run the request again. Far above the default
 * LOCK_TIMEOUT_MS (5 s), the longest a live request waits, so a live request is not overtaken.
 */
const ABANDONED_CLAIM_SECONDS = 120;

export type Claim =
  | { kind: 'execute'; token: string }
  | { kind: 'replay'; statusCode: number; body: string }
  | { kind: 'mismatch' }
  | { kind: 'in_progress' };

/** How long a second request with a key in progress waits for the first: a count of polls, not a clock. */
export interface WaitBudget {
  polls: number;
  intervalMs: number;
}

const DEFAULT_WAIT: WaitBudget = { polls: 200, intervalMs: 50 };

/** Keys belong to one credential (a till by id, a client by key) of one org: others may use the same key freely. */
export function idempotencyScope(caller: Caller, key: string): IdempotencyScope {
  const { kind, id, name } = caller.credential;
  return { orgId: caller.org.id, credential: kind === 'till' ? `till:${id}` : `oauth:${name}`, key };
}

/**
 * A hash of what makes two requests "the same": the endpoint and the body with object keys in
 * a canonical order (whitespace and key order of the JSON text do not matter; values do).
 */
export function requestHash(endpoint: string, body: unknown): string {
  return createHash('sha256').update(endpoint).update('\n').update(canonicalJson(body)).digest('base64');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * Claims the key for this request, or says what to answer instead: the stored first answer, a
 * mismatch (the key went with another request), or, after waiting out the budget for a first
 * request still running, in_progress.
 */
export async function claimKey(
  deps: { db: DB; clock: Clock },
  scope: IdempotencyScope,
  hash: string,
  wait: WaitBudget = DEFAULT_WAIT,
): Promise<Claim> {
  const token = randomUUID();
  for (let poll = 0; poll <= wait.polls; poll++) {
    const now = deps.clock.now();
    const claimed = await claimIdempotencyKey(deps.db, scope, {
      requestHash: hash,
      token,
      now,
      expiresAt: now.add({ hours: IDEMPOTENCY_WINDOW_HOURS }),
      abandonedBefore: now.subtract({ seconds: ABANDONED_CLAIM_SECONDS }),
    });
    if (claimed) {
      await deleteExpiredIdempotencyKeys(deps.db, scope.orgId, now);
      return { kind: 'execute', token };
    }
    const stored = await findIdempotencyKey(deps.db, scope);
    if (!stored) continue; // the first request let the key go (it changed nothing): claim it again
    if (stored.requestHash !== hash) return { kind: 'mismatch' };
    if (stored.statusCode !== null && stored.responseBody !== null) {
      return { kind: 'replay', statusCode: stored.statusCode, body: stored.responseBody };
    }
    if (poll < wait.polls) await sleep(wait.intervalMs);
  }
  return { kind: 'in_progress' };
}

export async function recordAnswer(
  db: DB,
  scope: IdempotencyScope,
  token: string,
  statusCode: number,
  body: string,
): Promise<void> {
  await storeIdempotentAnswer(db, scope, token, { statusCode, body });
}

export async function releaseKey(db: DB, scope: IdempotencyScope, token: string): Promise<void> {
  await releaseIdempotencyKey(db, scope, token);
}
