import autocannon from 'autocannon';
import { AUTHORIZATION, sizedRuns, sum, type HttpRun } from './http-load.js';
import type { CpuUse } from './machine.js';
import { percentile } from './measurement.js';
import type { Operation, OperationName } from './scale-requests.js';
import { BATCH_SIZE } from './settings.js';

/** Untimed requests before each measurement (JIT, pool connections, the first pages read). */
const WARM_UP_PER_CONNECTION = 4;
const MIN_WARM_UP = 20;

/** One operation at one concurrency level, as reported and saved. */
export interface OperationRun {
  operation: OperationName;
  connections: number;
  /** Requests in the measured runs (the warm-up only counts in failed, errors and memberships). */
  requests: number;
  seconds: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Responses that were not HTTP 200 (201: some entry failed), warm-up included. */
  failed: number;
  /** Connection errors and timeouts, warm-up included. */
  errors: number;
  /** Stopped before its time because its share of customers was used up. */
  capped: boolean;
  cpu: CpuUse;
  /** Link only: memberships added (warm-up included) against BATCH_SIZE × HTTP 200s. */
  memberships?: { added: number; expected: number };
  firstFailure?: string;
}

export interface OperationLevel {
  address: string;
  operation: Operation;
  connections: number;
  seconds: number;
  /** Levels still to run for this operation, this one included: each gets an equal share of what it uses up. */
  levelsLeft: number;
  serviceCpuSeconds: () => number | undefined;
  countMemberships?: () => Promise<number>;
}

/**
 * Sends exactly `amount` requests of `operation` over `connections` keep-alive connections
 * (autocannon, as bench/lib/http-load.ts: a fixed amount lets every request finish, so what a
 * run wrote can be counted exactly). Each request is built when autocannon sends it.
 */
function runRequests(address: string, connections: number, amount: number, operation: Operation): Promise<HttpRun> {
  const latenciesMs: number[] = [];
  let ok = 0;
  let firstFailure: string | undefined;
  let lastResponseAt = 0;
  const headers: Record<string, string> = { authorization: AUTHORIZATION };
  if (operation.method === 'POST') headers['content-type'] = 'application/json';
  const startedAt = performance.now();
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: address,
        connections,
        amount,
        timeout: 30,
        requests: [
          {
            method: operation.method,
            headers,
            setupRequest: (request) => ({ ...request, ...operation.next() }),
            onResponse: (status, body) => {
              if (status !== 200) firstFailure ??= `HTTP ${status}: ${body.slice(0, 300)}`;
            },
          },
        ],
      },
      (error: unknown, result) => {
        if (error) return reject(error instanceof Error ? error : new Error(String(error)));
        const seconds = ((latenciesMs.length > 0 ? lastResponseAt : performance.now()) - startedAt) / 1000;
        resolve({ responses: latenciesMs.length, ok, errors: result.errors, seconds, latenciesMs, firstFailure });
      },
    );
    instance.on('response', (_client, statusCode, _bytes, responseTimeMs) => {
      lastResponseAt = performance.now();
      latenciesMs.push(responseTimeMs);
      if (statusCode === 200) ok += 1;
    });
  });
}

/**
 * An untimed warm-up, then fixed-amount runs sized from the last measured rate until `seconds`
 * have passed (the link bench's measureHttpLevel, for any operation). Undefined when the
 * operation's share of customers does not even cover the warm-up.
 */
export async function measureOperation(level: OperationLevel): Promise<OperationRun | undefined> {
  const { address, operation, connections } = level;
  const share = Math.floor(operation.available() / level.levelsLeft);
  const warmUpAmount = Math.max(MIN_WARM_UP, connections * WARM_UP_PER_CONNECTION);
  const available = share - warmUpAmount;
  if (available < connections) return undefined;

  const before = await level.countMemberships?.();
  const { warmUp, runs, elapsed, cpuUse, capped } = await sizedRuns({
    connections,
    seconds: level.seconds,
    warmUpAmount,
    available,
    serviceCpuSeconds: level.serviceCpuSeconds,
    run: (amount) => runRequests(address, connections, amount, operation),
  });
  const after = await level.countMemberships?.();

  const all = [warmUp, ...runs];
  const latencies = runs.flatMap((r) => r.latenciesMs);
  const requests = sum(runs, (r) => r.responses);
  return {
    operation: operation.name,
    connections,
    requests,
    seconds: elapsed,
    requestsPerSecond: elapsed > 0 ? requests / elapsed : 0,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    failed: sum(all, (r) => r.responses - r.ok),
    errors: sum(all, (r) => r.errors),
    capped,
    cpu: cpuUse,
    ...(before !== undefined && after !== undefined
      ? { memberships: { added: after - before, expected: BATCH_SIZE * sum(all, (r) => r.ok) } }
      : {}),
    firstFailure: all.find((r) => r.firstFailure)?.firstFailure,
  };
}

export function operationRunVerified(run: OperationRun): boolean {
  const counted = !run.memberships || run.memberships.added === run.memberships.expected;
  return run.failed === 0 && run.errors === 0 && counted;
}
