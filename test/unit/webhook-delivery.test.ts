import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import { Temporal } from 'temporal-polyfill';
import { describe, expect, it } from 'vitest';
import {
  consequenceOf,
  outcomeOfError,
  outcomeOfStatus,
  retryDelayMs,
  webhookHeaders,
  webhookSignature,
} from '../../src/domain/webhook-delivery.js';
import { ATTEMPTS_PER_SCHEDULE, RETRY_DELAYS_MS } from '../../src/model/event.js';

// SPEC §9.4 on the pure rules: the Standard Webhooks signature (held against the format's own
// library, as a receiver would verify), the retry schedule and what an answer means.

const secret = `whsec_${randomBytes(32).toString('base64')}`;
const body = '{"eventId":"0b9f3c1e-0000-4000-8000-000000000001","data":{"x":"é"}}';

describe('webhook signature', () => {
  it('verifies with the standardwebhooks library', () => {
    const timestampSeconds = Math.floor(Date.now() / 1000);
    const headers = webhookHeaders({
      webhookId: '0b9f3c1e-0000-4000-8000-000000000001',
      secret,
      timestampSeconds,
      body,
      customHeaders: { authorization: 'Bearer receiver-token' },
    });
    expect(headers).toMatchObject({
      'content-type': 'application/json',
      'webhook-id': '0b9f3c1e-0000-4000-8000-000000000001',
      'webhook-timestamp': String(timestampSeconds),
      authorization: 'Bearer receiver-token',
    });
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
  });

  it('matches the library signature for any id, instant and body', () => {
    fc.assert(
      fc.property(fc.uuid(), fc.integer({ min: 0, max: 4_000_000_000 }), fc.string(), (id, seconds, text) => {
        const expected = new Webhook(secret).sign(id, new Date(seconds * 1000), text);
        expect(webhookSignature(secret, id, seconds, text)).toBe(expected);
      }),
    );
  });

  it('fails verification with another secret or an altered body', () => {
    const timestampSeconds = Math.floor(Date.now() / 1000);
    const headers = webhookHeaders({ webhookId: 'id-1', secret, timestampSeconds, body, customHeaders: {} });
    const other = `whsec_${randomBytes(32).toString('base64')}`;
    expect(() => new Webhook(other).verify(body, headers)).toThrow();
    expect(() => new Webhook(secret).verify(`${body} `, headers)).toThrow();
  });

  it('never lets a custom header replace a header of the format', () => {
    const headers = webhookHeaders({
      webhookId: 'id-1',
      secret,
      timestampSeconds: 1,
      body,
      customHeaders: { 'webhook-id': 'forged', 'content-type': 'text/plain' },
    });
    expect(headers['webhook-id']).toBe('id-1');
    expect(headers['content-type']).toBe('application/json');
  });
});

describe('retry schedule', () => {
  const endedAt = Temporal.Instant.from('2026-06-15T06:30:00Z');
  const failed = outcomeOfStatus(500);

  it('is 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, up to 10 % later', () => {
    const hours = 3_600_000;
    expect(RETRY_DELAYS_MS).toEqual([5_000, 300_000, 1_800_000, 2 * hours, 5 * hours, 10 * hours, 10 * hours]);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 7 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (n, random) => {
          const delay = retryDelayMs(n, random);
          const base = RETRY_DELAYS_MS[n - 1]!;
          expect(delay).toBeGreaterThanOrEqual(base);
          expect(delay).toBeLessThanOrEqual(base * 1.1);
        },
      ),
    );
    expect(retryDelayMs(1, 0)).toBe(5_000);
    expect(retryDelayMs(1, 0.999_999)).toBe(5_500);
  });

  it('schedules failed attempt n from when it ended, on the service clock', () => {
    for (let n = 1; n < ATTEMPTS_PER_SCHEDULE; n++) {
      const consequence = consequenceOf(failed, n, endedAt, 0);
      expect(consequence).toEqual({
        status: 'PENDING',
        nextAttemptAt: endedAt.add({ milliseconds: RETRY_DELAYS_MS[n - 1]! }),
      });
    }
  });

  it('fails the delivery after the 8th failure', () => {
    expect(ATTEMPTS_PER_SCHEDULE).toBe(8);
    expect(consequenceOf(failed, 8, endedAt, 0.5)).toEqual({ status: 'FAILED', nextAttemptAt: null });
  });

  it('succeeds on any attempt that got a 2xx', () => {
    for (const n of [1, 8]) {
      expect(consequenceOf(outcomeOfStatus(204), n, endedAt, 0)).toEqual({ status: 'SUCCEEDED', nextAttemptAt: null });
    }
  });
});

describe('attempt outcome', () => {
  it('takes 2xx as success and anything else as failure with the status', () => {
    expect(outcomeOfStatus(200)).toEqual({ succeeded: true, responseStatus: 200 });
    expect(outcomeOfStatus(299)).toEqual({ succeeded: true, responseStatus: 299 });
    expect(outcomeOfStatus(500)).toEqual({ succeeded: false, responseStatus: 500, error: 'HTTP 500' });
    expect(outcomeOfStatus(404)).toEqual({ succeeded: false, responseStatus: 404, error: 'HTTP 404' });
    expect(outcomeOfStatus(302)).toEqual({
      succeeded: false,
      responseStatus: 302,
      error: 'redirect (HTTP 302) is not followed',
    });
  });

  it('names a timeout, a refused connection and other socket failures shortly', () => {
    const timeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    expect(outcomeOfError(timeout, 10_000)).toEqual({
      succeeded: false,
      responseStatus: null,
      error: 'timeout after 10000 ms',
    });
    const refused = new TypeError('fetch failed', {
      cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }),
    });
    expect(outcomeOfError(refused, 10_000)).toMatchObject({ error: 'connection refused' });
    const unknown = new TypeError('fetch failed', { cause: new Error('something odd') });
    expect(outcomeOfError(unknown, 10_000)).toMatchObject({ error: 'something odd' });
    const long = outcomeOfError(new Error('x'.repeat(500)), 1);
    expect(!long.succeeded && long.error.length).toBeLessThanOrEqual(200);
  });
});
