import type { FastifyBaseLogger } from 'fastify';
import {
  claimDeliveries,
  DeliverySender,
  DELIVERIES_CHANNEL,
  finishAttempt,
  LEASE_MARGIN_MS,
  nextAttemptDueAt,
  purgeExpiredEvents,
  recordAttempts,
  releaseDeliveries,
  type DeliveryDependencies,
  type FinishedAttempt,
  type LeasedDelivery,
  type NotificationListener,
  type Unlisten,
} from '../domain/deliveries.js';

export interface DeliveryWorkerOptions extends DeliveryDependencies {
  logger: FastifyBaseLogger;
  /** LISTEN on the deliveries channel (DatabaseHandle.listen); without it the worker only polls. */
  listen?: NotificationListener;
  /** EVENT_RETENTION_DAYS. */
  retentionDays: number;
  /** The slow poll, for what no notification announced (a lease run out, a missed NOTIFY). */
  pollIntervalMs?: number;
  purgeIntervalMs?: number;
}

/** Attempts a worker finished (sent and recorded, or handed to a flush). */
export interface DeliveryReport {
  attempted: number;
  succeeded: number;
  failed: number;
}

const POLL_INTERVAL_MS = 5_000;
const PURGE_INTERVAL_MS = 60_000;
/** A timer for the next due attempt never fires sooner than this after the last round. */
const MIN_TIMER_MS = 20;
const FLUSH_RETRY_MS = 1_000;
/**
 * Claims and flushes wait this long after the event that asks for them, so that the attempts
 * finishing together share one statement. Without it, on PGlite (whose queries block the event
 * loop) every claim and every flush carried a single delivery: 180 deliveries/s.
 */
const COALESCE_MS = 2;
/** On stop, attempts in flight get this long to be answered; the rest are aborted and given back. */
const STOP_GRACE_MS = 1_000;

/**
 * Sends the webhook deliveries that are due (SPEC §9.4), in every instance of role `worker` or
 * `all` at once. Up to `concurrency` attempts are in flight, at most a quarter of them (at least
 * one) for any one subscription, so a slow or dead receiver holds only its own share. Each
 * attempt is leased (real time: timeout + 5 s) before it is sent, so no two workers send one
 * attempt at the same time, and a worker killed mid-send leaves a lease that runs out: another
 * sends again with the same webhook-id (at least once, never lost).
 *
 * Claims run one at a time, back to back while slots free up; finished attempts are written in
 * batches, one statement a flush, whatever has finished while the previous flush ran. The worker
 * wakes on a NOTIFY, on `wake()` (the sandbox clock moved), on a timer for the next due attempt,
 * and on a slow poll.
 */
export class DeliveryWorker {
  private state: 'idle' | 'running' | 'stopped' = 'idle';
  private readonly sender: DeliverySender;
  private readonly perSubscription: number;
  private readonly busy = new Map<number, number>();
  private readonly sending = new Map<string, Promise<void>>();
  private afterSubscriptionId = 0;
  private finished: FinishedAttempt[] = [];
  private readonly abandoned: string[] = [];
  private claimLock: Promise<unknown> = Promise.resolve();
  private queuedClaim: Promise<ClaimRound> | undefined;
  private flushLock: Promise<unknown> = Promise.resolve();
  private queuedFlush: Promise<void> | undefined;
  private purging: Promise<void> | undefined;
  private stopSending = new AbortController();
  private pollTimer: NodeJS.Timeout | undefined;
  private dueTimer: NodeJS.Timeout | undefined;
  private purgeTimer: NodeJS.Timeout | undefined;
  private flushRetryTimer: NodeJS.Timeout | undefined;
  private claimTimer: NodeJS.Timeout | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private unlisten: Unlisten | undefined;
  private readonly totals: DeliveryReport = { attempted: 0, succeeded: 0, failed: 0 };

  constructor(private readonly options: DeliveryWorkerOptions) {
    this.sender = new DeliverySender(options);
    this.perSubscription = Math.max(1, Math.floor(options.concurrency / 4));
  }

  private get stopping(): boolean {
    return this.state === 'stopped';
  }

  /** Attempts finished since the worker was made. */
  get report(): DeliveryReport {
    return { ...this.totals };
  }

  async start(): Promise<void> {
    if (this.state !== 'idle') return;
    this.state = 'running';
    const { listen, pollIntervalMs = POLL_INTERVAL_MS, purgeIntervalMs = PURGE_INTERVAL_MS } = this.options;
    if (listen) this.unlisten = await listen(DELIVERIES_CHANNEL, () => this.wake());
    this.pollTimer = setInterval(() => this.wake(), pollIntervalMs);
    this.purgeTimer = setInterval(() => this.purge(), purgeIntervalMs);
    this.purge();
    this.wake();
  }

  /** Look for due deliveries now (a notification came, the clock moved). */
  wake(): void {
    if (this.state !== 'running' || this.claimTimer) return;
    this.claimTimer = setTimeout(() => {
      this.claimTimer = undefined;
      this.requestClaim().catch(() => {});
    }, COALESCE_MS);
  }

  /**
   * Sends everything due now and waits until it is answered and recorded, round after round,
   * until a round finds nothing due: for tests and `jobs run --once`.
   */
  async runUntilIdle(): Promise<DeliveryReport> {
    const before = this.report;
    for (;;) {
      await Promise.all(this.sending.values());
      await this.requestFlush();
      const round = await this.requestClaim();
      if (round.foundNothingDue && this.sending.size === 0) {
        await this.flushLock;
        if (this.finished.length === 0 && this.sending.size === 0) break;
      }
    }
    const after = this.report;
    return {
      attempted: after.attempted - before.attempted,
      succeeded: after.succeeded - before.succeeded,
      failed: after.failed - before.failed,
    };
  }

  /** Stops claiming, gives attempts in flight a moment, records what finished, gives back the rest. */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    for (const timer of [this.dueTimer, this.flushRetryTimer, this.claimTimer, this.flushTimer]) clearTimeout(timer);
    for (const timer of [this.pollTimer, this.purgeTimer]) clearInterval(timer);
    await this.unlisten?.().catch(() => {});
    await this.claimLock;
    const grace = setTimeout(() => this.stopSending.abort(), STOP_GRACE_MS);
    await Promise.all(this.sending.values());
    clearTimeout(grace);
    await this.requestFlush();
    await releaseDeliveries(this.options.db, this.abandoned.splice(0)).catch((error: unknown) => {
      this.options.logger.warn({ err: error }, 'could not give back unsent deliveries; their leases run out');
    });
    await this.purging;
  }

  /** One claim at a time; a request while one runs queues one more, which sees the latest state. */
  private requestClaim(): Promise<ClaimRound> {
    if (this.queuedClaim) return this.queuedClaim;
    const claim = this.claimLock.then(() => {
      this.queuedClaim = undefined;
      return this.claimWhileFree();
    });
    this.queuedClaim = claim;
    this.claimLock = claim.catch(() => {});
    return claim;
  }

  private async claimWhileFree(): Promise<ClaimRound> {
    let claimed = 0;
    try {
      while (!this.stopping) {
        const free = this.options.concurrency - this.sending.size;
        if (free <= 0) return { claimed, foundNothingDue: false };
        // With nothing in flight every subscription has its whole share: finding nothing then
        // means nothing is due.
        const idle = this.sending.size === 0;
        const leased = await claimDeliveries(this.options.db, this.options.clock, {
          limit: free,
          perSubscription: this.perSubscription,
          busy: this.busy,
          afterSubscriptionId: this.afterSubscriptionId,
          leaseMs: this.options.timeoutMs + LEASE_MARGIN_MS,
        });
        if (this.stopping) {
          this.abandoned.push(...leased.map((d) => d.leaseToken));
          break;
        }
        for (const delivery of leased) this.startSending(delivery);
        this.afterSubscriptionId = nextTurn(this.afterSubscriptionId, leased);
        claimed += leased.length;
        if (leased.length < free) {
          if (claimed === 0) await this.armDueTimer();
          return { claimed, foundNothingDue: idle && leased.length === 0 };
        }
      }
    } catch (error) {
      this.options.logger.error({ err: error }, 'delivery round failed; retrying at the next wake-up');
      throw error;
    }
    return { claimed, foundNothingDue: false };
  }

  private startSending(delivery: LeasedDelivery): void {
    const { subscriptionId } = delivery;
    this.busy.set(subscriptionId, (this.busy.get(subscriptionId) ?? 0) + 1);
    const sent = this.attempt(delivery).finally(() => {
      const left = (this.busy.get(subscriptionId) ?? 1) - 1;
      if (left === 0) this.busy.delete(subscriptionId);
      else this.busy.set(subscriptionId, left);
      this.sending.delete(delivery.leaseToken);
      this.wake();
    });
    this.sending.set(delivery.leaseToken, sent);
  }

  private async attempt(delivery: LeasedDelivery): Promise<void> {
    try {
      const sent = await this.sender.send(delivery, this.stopSending.signal);
      if (!sent) {
        this.abandoned.push(delivery.leaseToken);
        return;
      }
      const finished = finishAttempt(delivery, sent, this.options.clock.now(), Math.random());
      this.totals.attempted += 1;
      if (finished.status === 'SUCCEEDED') this.totals.succeeded += 1;
      else {
        this.totals.failed += 1;
        this.options.logger.info(
          {
            orgId: delivery.orgId,
            subscriptionId: delivery.subscriptionId,
            eventId: delivery.event.id,
            attempt: delivery.attempts + 1,
            responseStatus: finished.responseStatus,
            error: finished.error,
            status: finished.status,
            nextAttemptAt: finished.nextAttemptAt?.toString() ?? null,
          },
          'webhook attempt failed',
        );
      }
      this.finished.push(finished);
      this.flushSoon();
    } catch (error) {
      // A secret that will not open, a bad header set: the lease runs out and the attempt is retried.
      this.options.logger.error(
        { err: error, subscriptionId: delivery.subscriptionId, eventId: delivery.event.id },
        'webhook attempt could not be made',
      );
    }
  }

  private flushSoon(): void {
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      this.requestFlush().catch(() => {});
    }, COALESCE_MS);
  }

  /** One flush at a time; what finishes meanwhile goes into the next one. */
  private requestFlush(): Promise<void> {
    if (this.queuedFlush) return this.queuedFlush;
    const flush = this.flushLock.then(() => {
      this.queuedFlush = undefined;
      return this.flush();
    });
    this.queuedFlush = flush;
    this.flushLock = flush;
    return flush;
  }

  private async flush(): Promise<void> {
    const batch = this.finished;
    if (batch.length === 0) return;
    this.finished = [];
    try {
      await recordAttempts(this.options.db, batch);
    } catch (error) {
      this.finished = [...batch, ...this.finished];
      this.options.logger.error({ err: error, attempts: batch.length }, 'could not record webhook attempts; retrying');
      if (this.state === 'running') {
        clearTimeout(this.flushRetryTimer);
        this.flushRetryTimer = setTimeout(() => this.requestFlush().catch(() => {}), FLUSH_RETRY_MS);
      }
      return;
    }
    // Recorded retries are now visible to the timer for the next due attempt.
    this.wake();
  }

  /** After a round that found nothing: a timer for the next attempt due, if before the next poll. */
  private async armDueTimer(): Promise<void> {
    if (this.state !== 'running') return;
    const next = await nextAttemptDueAt(this.options.db);
    clearTimeout(this.dueTimer);
    if (!next || this.state !== 'running') return;
    const pollMs = this.options.pollIntervalMs ?? POLL_INTERVAL_MS;
    const delayMs = next.epochMilliseconds - this.options.clock.now().epochMilliseconds;
    if (delayMs >= pollMs) return;
    this.dueTimer = setTimeout(() => this.wake(), Math.max(delayMs, MIN_TIMER_MS));
  }

  private purge(): void {
    if (this.purging) return;
    const { db, clock, retentionDays, logger } = this.options;
    this.purging = purgeExpiredEvents(db, clock, retentionDays)
      .then((report) => {
        if (report.events + report.deliveries > 0) logger.info({ purged: report }, 'purged events past retention');
      })
      .catch((error: unknown) => logger.error({ err: error }, 'purging old events failed; retrying later'))
      .finally(() => {
        this.purging = undefined;
      });
  }
}

/** What one claim round took; whether a claim with nothing in flight found nothing due. */
interface ClaimRound {
  claimed: number;
  foundNothingDue: boolean;
}

/** The subscription to start after next time: the last one this claim served, in its rotated order. */
function nextTurn(after: number, leased: readonly LeasedDelivery[]): number {
  if (leased.length === 0) return after;
  const ids = leased.map((d) => d.subscriptionId);
  const wrapped = ids.filter((id) => id <= after);
  return Math.max(...(wrapped.length > 0 ? wrapped : ids));
}
