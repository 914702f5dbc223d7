import autocannon from 'autocannon';
import { tillSecretOf } from '../../src/domain/credentials.js';
import { linkRequestBody, type LinkSlots } from './batches.js';
import { measureCpu, type CpuUse } from './machine.js';
import { percentile, rates, type Measurement } from './measurement.js';
import { TILL } from './service.js';
import { BATCH_SIZE } from './settings.js';

export const LINK_PATH = '/v2/partnerProgram/linkCustomer';
export const AUTHORIZATION = `Basic ${Buffer.from(`${TILL.username}:${tillSecretOf(TILL.password)}`).toString('base64')}`;
/** Requests per connection in the untimed warm-up (first scrypt check, JIT, pool connections). */
const WARM_UP_PER_CONNECTION = 4;

export interface HttpRun {
  /** Responses received; with a fixed amount autocannon waits for every one, so none is cut off. */
  responses: number;
  /** HTTP 200: every entry succeeded, so exactly BATCH_SIZE memberships were written. */
  ok: number;
  /** Connection errors and timeouts. */
  errors: number;
  seconds: number;
  latenciesMs: number[];
  /** Status and start of the first body that was not a 200, to say why. */
  firstFailure: string | undefined;
}

/**
 * Sends exactly `amount` link requests over `connections` keep-alive connections. Each request
 * takes a fresh slot when autocannon builds it (`setupRequest` runs once per request sent). A
 * fixed amount rather than a duration lets every request finish: stopping on a timer would drop
 * in-flight requests the service may still commit, and the membership count could no longer be
 * checked exactly.
 */
export function runLinkRequests(
  address: string,
  connections: number,
  amount: number,
  slots: LinkSlots<string>,
  /** Each request with an `Idempotency-Key` of its own, as `partner-programs link` sends them. */
  idempotent = false,
): Promise<HttpRun> {
  const latenciesMs: number[] = [];
  let ok = 0;
  let firstFailure: string | undefined;
  let lastResponseAt = 0;
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
            method: 'POST',
            path: LINK_PATH,
            headers: { 'content-type': 'application/json', authorization: AUTHORIZATION },
            setupRequest: (request) => {
              const slot = slots.take();
              const key = idempotent ? { 'idempotency-key': `bench-${slot.program}-${slot.first}` } : {};
              return { ...request, headers: { ...request.headers, ...key }, body: linkRequestBody(slot) };
            },
            onResponse: (status, body) => {
              if (status !== 200) firstFailure ??= `HTTP ${status}: ${body.slice(0, 300)}`;
            },
          },
        ],
      },
      (error: unknown, result) => {
        if (error) return reject(error instanceof Error ? error : new Error(String(error)));
        // Timed to the last response: autocannon's own duration runs on to its next 1 s tick.
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

export interface HttpLevel {
  address: string;
  connections: number;
  seconds: number;
  /** Levels still to run, this one included: each gets an equal share of the unused slots. */
  levelsLeft: number;
  slots: LinkSlots<string>;
  serviceCpuSeconds: () => number | undefined;
}

/** A level measured, its memberships not yet counted: `expectedMemberships` waits for the count. */
export type UncountedMeasurement = Omit<Measurement, 'memberships'> & { expectedMemberships: number };

/** One link-bench level: sizedRuns over the level's share of slots, with the memberships counted. */
export async function measureHttpLevel(
  level: HttpLevel & { countMemberships: () => Promise<number> },
): Promise<Measurement | undefined> {
  const before = await level.countMemberships();
  const run = await runHttpLevel(level);
  return run && withMembershipsAdded(run, (await level.countMemberships()) - before);
}

/**
 * The level's runs without the count, for a database the bench can read only once the service
 * has stopped (PGlite, held by the service while it runs).
 */
export async function runHttpLevel(level: HttpLevel): Promise<UncountedMeasurement | undefined> {
  const { address, connections, slots } = level;
  const warmUpAmount = connections * WARM_UP_PER_CONNECTION;
  const available = slots.shareFor(level.levelsLeft) - warmUpAmount;
  if (available < connections) return undefined;

  const { warmUp, runs, elapsed, cpuUse, capped } = await sizedRuns({
    connections,
    seconds: level.seconds,
    warmUpAmount,
    available,
    serviceCpuSeconds: level.serviceCpuSeconds,
    run: (amount) => runLinkRequests(address, connections, amount, slots),
  });

  const all = [warmUp, ...runs];
  const responses = sum(runs, (r) => r.responses);
  const latenciesMs = runs.flatMap((r) => r.latenciesMs);
  return {
    connections,
    batches: responses,
    seconds: elapsed,
    ...rates(responses, elapsed),
    p50Ms: percentile(latenciesMs, 0.5),
    p99Ms: percentile(latenciesMs, 0.99),
    failed: sum(all, (r) => r.responses - r.ok),
    errors: sum(all, (r) => r.errors),
    cappedByCustomers: capped,
    expectedMemberships: BATCH_SIZE * sum(all, (r) => r.ok),
    cpu: cpuUse,
    firstFailure: all.find((r) => r.firstFailure)?.firstFailure,
  };
}

/** The measurement with the memberships its level added, to check against those expected. */
export function withMembershipsAdded(run: UncountedMeasurement, added: number): Measurement {
  const { expectedMemberships, ...measurement } = run;
  return { ...measurement, memberships: { added, expected: expectedMemberships } };
}

export interface SizedRuns {
  warmUp: HttpRun;
  runs: HttpRun[];
  /** Seconds of the measured runs. */
  elapsed: number;
  cpuUse: CpuUse;
  /** The requests available ran out before the time did. */
  capped: boolean;
}

/**
 * An untimed warm-up of `warmUpAmount` requests, then fixed-amount runs, each sized from the
 * last measured rate, until `seconds` have passed or `available` requests are spent. Several
 * runs rather than one, because the warm-up's rate is a poor guess for the warmed-up service.
 */
export async function sizedRuns(options: {
  connections: number;
  seconds: number;
  warmUpAmount: number;
  available: number;
  serviceCpuSeconds: () => number | undefined;
  run: (amount: number) => Promise<HttpRun>;
}): Promise<SizedRuns> {
  const { connections, seconds } = options;
  let available = options.available;
  const warmUp = await options.run(options.warmUpAmount);
  const runs: HttpRun[] = [];
  let rate = warmUp.responses / warmUp.seconds;
  let elapsed = 0;
  const cpu = measureCpu(options.serviceCpuSeconds);
  while (elapsed < seconds * 0.95 && available >= connections) {
    // Half the time left per run (all of it near the end), so a misjudged rate cannot overshoot far.
    const left = seconds - elapsed;
    const runSeconds = left > 2 ? left / 2 : left;
    const amount = Math.max(connections, Math.min(Math.ceil(rate * runSeconds), available));
    const run = await options.run(amount);
    runs.push(run);
    available -= amount;
    elapsed += run.seconds;
    rate = run.responses / run.seconds;
  }
  return { warmUp, runs, elapsed, cpuUse: cpu(), capped: elapsed < seconds * 0.95 };
}

export function sum<T>(items: readonly T[], value: (item: T) => number): number {
  return items.reduce((total, item) => total + value(item), 0);
}
