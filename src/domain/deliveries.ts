import { performance } from 'node:perf_hooks';
import { Agent, request } from 'undici';
import type { DB } from '../db/database.js';
import { DELIVERIES_CHANNEL, type Unlisten } from '../db/notifications.js';
import {
  claimDueDeliveries,
  deleteEventsWithoutPendingDeliveries,
  deleteFinishedDeliveries,
  earliestPendingAttempt,
  orgsWithActiveSubscriptions,
  recordFinishedAttempts,
  releaseLeases,
  sealingKeyFingerprints,
  type ClaimRequest,
  type FinishedAttempt,
  type LeasedDelivery,
} from '../db/repositories/delivery-queue.repository.js';
import { listOrgIds } from '../db/repositories/orgs.repository.js';
import { eventBody } from '../model/event.js';
import type { Temporal } from 'temporal-polyfill';
import { systemClock, type Clock } from './clock.js';
import type { SecretBox } from './secrets.js';
import {
  consequenceOf,
  outcomeOfError,
  outcomeOfStatus,
  webhookHeaders,
  type AttemptOutcome,
} from './webhook-delivery.js';

/**
 * The delivery use cases (SPEC §9.4): lease what is due, send one attempt, record what came of
 * attempts, forget events past retention. The worker (src/jobs/delivery-worker.ts) decides when.
 */

export { DELIVERIES_CHANNEL };
export type { FinishedAttempt, LeasedDelivery, Unlisten };

/** DatabaseHandle.listen: wakes the worker when a statement notifies the channel. */
export type NotificationListener = (channel: string, onNotify: () => void) => Promise<Unlisten>;

export interface DeliveryDependencies {
  db: DB;
  /** The service clock: when attempts are due and when they happened. */
  clock: Clock;
  secrets: SecretBox;
  /** How long a receiver has to answer (WEBHOOK_TIMEOUT_MS). */
  timeoutMs: number;
  /** The most attempts in flight in this process (WEBHOOK_CONCURRENCY). */
  concurrency: number;
  /** Real time, for `webhook-timestamp` and the attempt log; the service clock may be moved. */
  realClock?: Clock;
}

/** A lease outlives the attempt by this much, so that it is recorded before anyone else may take it. */
export const LEASE_MARGIN_MS = 5_000;

/**
 * Leases due deliveries org by org (each claim one statement on one org's rows), the orgs in
 * turn from the one after `afterOrgId`, until `limit` are leased or every org was asked.
 */
export async function claimDeliveries(
  db: DB,
  clock: Clock,
  request: Omit<ClaimRequest, 'now' | 'orgId'> & { afterOrgId?: number },
): Promise<LeasedDelivery[]> {
  const { afterOrgId = 0, ...claim } = request;
  const orgs = await orgsWithActiveSubscriptions(db);
  const inTurn = [...orgs.filter((id) => id > afterOrgId), ...orgs.filter((id) => id <= afterOrgId)];
  const leased: LeasedDelivery[] = [];
  for (const orgId of inTurn) {
    const room = claim.limit - leased.length;
    if (room <= 0) break;
    leased.push(...(await claimDueDeliveries(db, { ...claim, orgId, limit: room, now: clock.now() })));
  }
  return leased;
}

/** Records finished attempts, one statement per org among them. */
export async function recordAttempts(db: DB, attempts: readonly FinishedAttempt[]): Promise<number> {
  const byOrg = new Map<number, FinishedAttempt[]>();
  for (const attempt of attempts) {
    const ofOrg = byOrg.get(attempt.orgId);
    if (ofOrg) ofOrg.push(attempt);
    else byOrg.set(attempt.orgId, [attempt]);
  }
  let recorded = 0;
  for (const [orgId, ofOrg] of byOrg) recorded += await recordFinishedAttempts(db, orgId, ofOrg);
  return recorded;
}

export function releaseDeliveries(db: DB, leaseTokens: readonly string[]): Promise<void> {
  return releaseLeases(db, leaseTokens);
}

export function nextAttemptDueAt(db: DB): Promise<Temporal.Instant | null> {
  return earliestPendingAttempt(db);
}

/** One attempt as sent: when (real time), how long, and how it ended. */
export interface SentAttempt {
  startedAt: Temporal.Instant;
  durationMs: number;
  outcome: AttemptOutcome;
}

/** Answers are read (to reuse the connection) up to this size, then the rest is dropped. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * Sends attempts: opens the sealed secret and headers, signs, POSTs, classifies the answer.
 * Requests go through undici's `request` on a keep-alive agent of the sender's own: the same
 * HTTP/1.1 client as `fetch`, without the WHATWG layers that made `fetch` most of a delivery's CPU.
 */
export class DeliverySender {
  /** Opened secrets and header sets by sealed text: a few per subscription, reused every attempt. */
  private readonly opened = new Map<string, string>();
  private readonly realClock: Clock;
  private readonly agent: Agent;

  constructor(private readonly deps: Pick<DeliveryDependencies, 'secrets' | 'timeoutMs' | 'realClock'>) {
    this.realClock = deps.realClock ?? systemClock;
    this.agent = new Agent({ connect: { timeout: deps.timeoutMs }, keepAliveTimeout: 4_000 });
  }

  /** The attempt, or null when `stop` aborted it before an answer (the lease is then given back). */
  async send(delivery: LeasedDelivery, stop: AbortSignal): Promise<SentAttempt | null> {
    if (stop.aborted) return null;
    const startedAt = this.realClock.now();
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const { timeoutMs } = this.deps;
    // One controller per attempt, aborted by the timeout or by the worker stopping.
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new AttemptTimeout(timeoutMs)), timeoutMs);
    const onStop = () => controller.abort(stop.reason);
    stop.addEventListener('abort', onStop, { once: true });
    let outcome: AttemptOutcome;
    try {
      const body = eventBody(delivery.event);
      const headers = webhookHeaders({
        webhookId: delivery.event.id,
        secret: this.open(delivery.secretSealed),
        timestampSeconds: Math.floor(startedAt.epochMilliseconds / 1000),
        body,
        customHeaders: JSON.parse(this.open(delivery.headersSealed)) as Record<string, string>,
      });
      const response = await request(delivery.url, {
        method: 'POST',
        headers,
        body,
        signal: controller.signal,
        dispatcher: this.agent,
      });
      outcome = outcomeOfStatus(response.statusCode);
      // The status is what counts; an answer that breaks off after it changes nothing.
      await response.body.dump({ limit: MAX_RESPONSE_BYTES }).catch(() => {});
    } catch (error) {
      if (stop.aborted) return null;
      outcome = outcomeOfError(controller.signal.aborted ? controller.signal.reason : error, timeoutMs);
    } finally {
      clearTimeout(timer);
      stop.removeEventListener('abort', onStop);
    }
    return { startedAt, durationMs: elapsed(), outcome };
  }

  /** Closes the kept-alive connections. */
  async close(): Promise<void> {
    await this.agent.close();
  }

  private open(sealed: string): string {
    let plain = this.opened.get(sealed);
    if (plain === undefined) {
      plain = this.deps.secrets.open(sealed);
      if (this.opened.size >= 10_000) this.opened.clear();
      this.opened.set(sealed, plain);
    }
    return plain;
  }
}

/** The timeout's reason, named as `outcomeOfError` expects. */
class AttemptTimeout extends Error {
  override readonly name = 'TimeoutError';
  constructor(timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
  }
}

/** What an attempt makes of its delivery; `random` in [0, 1) jitters the retry. */
export function finishAttempt(
  delivery: LeasedDelivery,
  sent: SentAttempt,
  endedAt: Temporal.Instant,
  random: number,
): FinishedAttempt {
  const { outcome } = sent;
  const consequence = consequenceOf(outcome, delivery.scheduleAttempts + 1, endedAt, random);
  return {
    orgId: delivery.orgId,
    subscriptionId: delivery.subscriptionId,
    eventSeq: delivery.eventSeq,
    leaseToken: delivery.leaseToken,
    startedAt: sent.startedAt,
    durationMs: sent.durationMs,
    responseStatus: outcome.responseStatus,
    error: outcome.succeeded ? null : outcome.error,
    endedAt,
    ...consequence,
  };
}

export interface PurgeReport {
  events: number;
  deliveries: number;
}

const PURGE_BATCH = 1_000;

/**
 * Forgets what is older than the retention (by the event's createdAt on the service clock):
 * finished deliveries, then events no PENDING delivery still needs (their deliveries and
 * attempts go with them). Org by org, at most PURGE_BATCH rows a statement, so no statement
 * holds many locks or runs long.
 */
export async function purgeExpiredEvents(db: DB, clock: Clock, retentionDays: number): Promise<PurgeReport> {
  const cutoff = clock.now().subtract({ hours: retentionDays * 24 });
  const report: PurgeReport = { events: 0, deliveries: 0 };
  for (const orgId of await listOrgIds(db)) {
    report.deliveries += await untilDone(() => deleteFinishedDeliveries(db, orgId, cutoff, PURGE_BATCH));
    report.events += await untilDone(() => deleteEventsWithoutPendingDeliveries(db, orgId, cutoff, PURGE_BATCH));
  }
  return report;
}

async function untilDone(batch: () => Promise<number>): Promise<number> {
  let total = 0;
  for (;;) {
    const deleted = await batch();
    total += deleted;
    if (deleted < PURGE_BATCH) return total;
  }
}

/** Fingerprints of keys other than `secrets`' that sealed stored webhook secrets (none: all is well). */
export async function foreignSealingKeys(db: DB, secrets: SecretBox): Promise<string[]> {
  return (await sealingKeyFingerprints(db)).filter((fingerprint) => fingerprint !== secrets.fingerprint);
}
