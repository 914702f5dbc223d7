import { setMaxListeners } from 'node:events';
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
import type { Telemetry } from '../domain/telemetry.js';

export interface DeliveryWorkerOptions extends DeliveryDependencies {
  logger: FastifyBaseLogger;
  /** LISTEN on the deliveries channel (DatabaseHandle.listen); without it the worker only polls. */
  listen?: NotificationListener;
  /** EVENT_RETENTION_DAYS. */
  retentionDays: number;
  /** The slow poll, for what no notification announced (a lease run out, a missed NOTIFY). */
  pollIntervalMs?: number;
  purgeIntervalMs?: number;
  /** Told of every attempt's outcome (the metrics). */
  telemetry?: Telemetry;
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
/**
 * Finished attempts are recorded this long after the first of them, or at once when this many
 * are waiting: each record statement costs about a millisecond of planning and commit whatever
 * it carries, so larger flushes halve the database's work per delivery at thousands a second.
 * The delay is far inside the lease margin; nobody waits on it but the attempt log.
 */
const FLUSH_DELAY_MS = 20;
const FLUSH_AT = 64;
/** On stop, attempts in flight get this long to be answered; the rest are aborted and given back. */
const STOP_GRACE_MS = 1_000;
/**
 * A delivery leased ahead waits at most this long in the worker's queue; an older one is given
 * back unsent. Its lease covers the wait as well as the attempt, so the margin after the attempt
 * stays LEASE_MARGIN_MS.
 */
const QUEUE_MAX_AGE_MS = 2_000;
/** An attempt in flight or answered after longer than this marks its receiver slow: nothing is leased ahead for it. */
const SLOW_ATTEMPT_MS = 250;

/**
 * Sends the webhook deliveries that are due (SPEC §9.4), in every instance of role `worker` or
 * `all` at once. Up to `concurrency` attempts are in flight, at most a quarter of them (at least
 * one) for any one subscription, so a slow or dead receiver holds only its own share. Each
 * attempt is leased (real time: queue wait + timeout + 5 s) before it is sent, so no two workers
 * send one attempt at the same time, and a worker killed mid-send leaves a lease that runs out:
 * another sends again with the same webhook-id (at least once, never lost).
 *
 * For receivers that answer quickly the worker leases ahead: up to twice `concurrency` more per
 * subscription wait in a local queue, so a slot that frees up is refilled at once, without a
 * round trip to the database, and one claim leases many. A slow receiver gets nothing leased
 * ahead; a queued delivery that waited QUEUE_MAX_AGE_MS is given back.
 *
 * Claims run one at a time, when slots are free with nothing queued for them or the queue runs
 * low; finished attempts are written in batches, one statement a flush, whatever has finished
 * while the previous flush ran. The worker wakes on a NOTIFY, on `wake()` (the sandbox clock
 * moved), on a timer for the next due attempt, and on a slow poll.
 */
export class DeliveryWorker {
  private state: 'idle' | 'running' | 'stopped' = 'idle';
  private readonly sender: DeliverySender;
  /** Attempts in flight for one subscription, at most. */
  private readonly perSubscription: number;
  /** Deliveries leased ahead for one fast subscription, at most. */
  private readonly queueDepth: number;
  /** Deliveries held (in flight or queued) in all, at most. */
  private readonly budget: number;
  /** Subscription id → attempts in flight. */
  private readonly busy = new Map<number, number>();
  private readonly sending = new Map<string, Promise<void>>();
  /** Lease token → when its attempt started (performance.now()) and for which subscription. */
  private readonly sendingSince = new Map<string, { subscriptionId: number; at: number }>();
  /** Subscription id → deliveries leased ahead, oldest first. */
  private readonly queues = new Map<number, QueuedDelivery[]>();
  private queued = 0;
  /** The last claim took as many as the worker's budget let it: more may be due than it holds. */
  private claimWasFull = false;
  /** Subscription id → how long its last attempt took. */
  private readonly lastDurationMs = new Map<number, number>();
  private releasing: Promise<void> | undefined;
  private afterSubscriptionId = 0;
  /** Orgs take turns too: the next claim starts after the org of the last delivery leased. */
  private afterOrgId = 0;
  private finished: FinishedAttempt[] = [];
  private readonly abandoned: string[] = [];
  private claimLock: Promise<unknown> = Promise.resolve();
  private queuedClaim: Promise<ClaimRound> | undefined;
  private flushLock: Promise<unknown> = Promise.resolve();
  private queuedFlush: Promise<void> | undefined;
  private purging: Promise<void> | undefined;
  /** Every attempt in flight listens to it: as many as the pool holds, so no listener limit. */
  private stopSending = unlimitedAbortController();
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
    this.queueDepth = 2 * options.concurrency;
    this.budget = 4 * options.concurrency;
  }

  /** Deliveries this worker holds the lease of: in flight or queued. */
  private get held(): number {
    return this.sending.size + this.queued;
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
      if (round.foundNothingDue && this.held === 0) {
        await this.flushLock;
        if (this.finished.length === 0 && this.held === 0) break;
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
    this.dropQueued(() => true);
    const grace = setTimeout(() => this.stopSending.abort(), STOP_GRACE_MS);
    await Promise.all(this.sending.values());
    clearTimeout(grace);
    await this.requestFlush();
    await this.releasing;
    await this.release();
    await this.sender.close().catch(() => {});
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
      this.pump();
      while (!this.stopping) {
        const room = this.budget - this.held;
        this.claimWasFull = room <= 0;
        if (room <= 0) return { claimed, foundNothingDue: false };
        // With nothing held every subscription has its whole share: finding nothing then means
        // nothing is due.
        const idle = this.held === 0;
        const claimedAt = performance.now();
        const leased = await claimDeliveries(this.options.db, this.options.clock, {
          limit: room,
          perSubscription: this.perSubscription + this.queueDepth,
          busy: this.heldBySubscription(claimedAt),
          afterSubscriptionId: this.afterSubscriptionId,
          afterOrgId: this.afterOrgId,
          leaseMs: QUEUE_MAX_AGE_MS + this.options.timeoutMs + LEASE_MARGIN_MS,
        });
        if (this.stopping) {
          this.abandoned.push(...leased.map((d) => d.leaseToken));
          break;
        }
        this.claimWasFull = leased.length >= room;
        for (const delivery of leased) this.enqueue({ delivery, claimedAt });
        this.pump();
        this.afterSubscriptionId = nextTurn(this.afterSubscriptionId, leased);
        this.afterOrgId = leased.at(-1)?.orgId ?? this.afterOrgId;
        claimed += leased.length;
        if (leased.length < room) {
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

  /**
   * What the claim counts as taken per subscription: what is held, and for a slow one its whole
   * queue depth too, so that it gets only the slots it has free.
   */
  private heldBySubscription(now: number): Map<number, number> {
    const held = new Map(this.busy);
    for (const [subscriptionId, queue] of this.queues) {
      held.set(subscriptionId, (held.get(subscriptionId) ?? 0) + queue.length);
    }
    const slow = new Set<number>();
    for (const [subscriptionId, ms] of this.lastDurationMs) if (ms > SLOW_ATTEMPT_MS) slow.add(subscriptionId);
    for (const { subscriptionId, at } of this.sendingSince.values()) {
      if (now - at > SLOW_ATTEMPT_MS) slow.add(subscriptionId);
    }
    for (const subscriptionId of slow) held.set(subscriptionId, (held.get(subscriptionId) ?? 0) + this.queueDepth);
    return held;
  }

  private enqueue(queued: QueuedDelivery): void {
    const { subscriptionId } = queued.delivery;
    const queue = this.queues.get(subscriptionId);
    if (queue) queue.push(queued);
    else this.queues.set(subscriptionId, [queued]);
    this.queued += 1;
  }

  /**
   * Starts queued deliveries while slots are free, each subscription within its share; gives
   * back those that waited too long.
   */
  private pump(): void {
    const now = performance.now();
    this.dropQueued((queued) => now - queued.claimedAt > QUEUE_MAX_AGE_MS);
    for (const [subscriptionId, queue] of this.queues) {
      while (queue.length > 0 && this.sending.size < this.options.concurrency) {
        if ((this.busy.get(subscriptionId) ?? 0) >= this.perSubscription) break;
        this.queued -= 1;
        this.startSending(queue.shift()!.delivery);
      }
      if (queue.length === 0) this.queues.delete(subscriptionId);
    }
  }

  /** Takes queued deliveries out of the queue and gives their leases back. */
  private dropQueued(drop: (queued: QueuedDelivery) => boolean): void {
    let dropped = 0;
    for (const [subscriptionId, queue] of this.queues) {
      const kept = queue.filter((queued) => {
        if (!drop(queued)) return true;
        this.abandoned.push(queued.delivery.leaseToken);
        dropped += 1;
        return false;
      });
      if (kept.length === 0) this.queues.delete(subscriptionId);
      else if (kept.length < queue.length) this.queues.set(subscriptionId, kept);
    }
    if (dropped === 0) return;
    this.queued -= dropped;
    if (!this.stopping && !this.releasing) {
      this.releasing = this.release().finally(() => {
        this.releasing = undefined;
      });
    }
  }

  /** Gives back the leases of deliveries this worker will not send. */
  private async release(): Promise<void> {
    const tokens = this.abandoned.splice(0);
    await releaseDeliveries(this.options.db, tokens).catch((error: unknown) => {
      this.options.logger.warn({ err: error }, 'could not give back unsent deliveries; their leases run out');
    });
  }

  private startSending(delivery: LeasedDelivery): void {
    const { subscriptionId, leaseToken } = delivery;
    this.busy.set(subscriptionId, (this.busy.get(subscriptionId) ?? 0) + 1);
    this.sendingSince.set(leaseToken, { subscriptionId, at: performance.now() });
    const sent = this.attempt(delivery).finally(() => {
      const left = (this.busy.get(subscriptionId) ?? 1) - 1;
      if (left === 0) this.busy.delete(subscriptionId);
      else this.busy.set(subscriptionId, left);
      this.sending.delete(leaseToken);
      this.sendingSince.delete(leaseToken);
      if (this.stopping) return;
      this.pump();
      // Claim again when this subscription's queue runs low, or when the last claim was cut short
      // by the worker's budget (others may have work waiting). New work of any other
      // subscription announces itself: a NOTIFY, the timer of the next due attempt, the poll.
      const queuedForIt = this.queues.get(subscriptionId)?.length ?? 0;
      if (this.claimWasFull || queuedForIt < this.queueDepth / 2) this.wake();
    });
    this.sending.set(leaseToken, sent);
  }

  private async attempt(delivery: LeasedDelivery): Promise<void> {
    try {
      const sent = await this.sender.send(delivery, this.stopSending.signal);
      if (!sent) {
        this.abandoned.push(delivery.leaseToken);
        return;
      }
      const finished = finishAttempt(delivery, sent, this.options.clock.now(), Math.random());
      this.lastDurationMs.set(delivery.subscriptionId, sent.durationMs);
      this.totals.attempted += 1;
      this.options.telemetry?.deliveryAttempt(finished.status === 'SUCCEEDED' ? 'succeeded' : 'failed');
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
    if (this.finished.length >= FLUSH_AT) {
      clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
      this.requestFlush().catch(() => {});
      return;
    }
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      this.requestFlush().catch(() => {});
    }, FLUSH_DELAY_MS);
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

/** A delivery leased ahead, and when the claim that leased it started (performance.now()). */
interface QueuedDelivery {
  delivery: LeasedDelivery;
  claimedAt: number;
}

/** What one claim round took; whether a claim with nothing held found nothing due. */
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

function unlimitedAbortController(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}
