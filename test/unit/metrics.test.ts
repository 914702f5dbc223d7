import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Metrics } from '../../src/http/metrics.js';
import { Scrape } from '../support/prometheus.js';

// The registry behind GET /metrics, without a server: what a scrape holds when the database
// cannot count the backlog, and that each instance keeps its own counts.
function metricsWith(pendingDeliveries: () => Promise<number>) {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { metrics: new Metrics({ pendingDeliveries, logger: pino({ level: 'warn' }, sink) }), lines };
}

const scrape = async (metrics: Metrics) => new Scrape(await metrics.registry.metrics());

describe('webhook_deliveries_pending', () => {
  it('is read at every scrape', async () => {
    let pending = 3;
    const { metrics } = metricsWith(async () => pending);
    expect((await scrape(metrics)).value('webhook_deliveries_pending')).toBe(3);
    pending = 0;
    expect((await scrape(metrics)).value('webhook_deliveries_pending')).toBe(0);
  });

  it('has no sample, rather than a stale one, when the database does not answer; the rest is scraped', async () => {
    let failing = false;
    const { metrics, lines } = metricsWith(async () => {
      if (failing) throw new Error('connection refused');
      return 7;
    });
    expect((await scrape(metrics)).value('webhook_deliveries_pending')).toBe(7);
    failing = true;
    const scraped = await scrape(metrics);
    expect(scraped.value('webhook_deliveries_pending')).toBeUndefined();
    expect(scraped.text).toMatch(/^# TYPE webhook_deliveries_pending gauge$/m);
    expect(scraped.value('process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(scraped.value('scheduler_transitions_total', { kind: 'reminder' })).toBe(0);
    expect(lines.map((line) => JSON.parse(line) as { msg: string; err: { message: string } })).toEqual([
      expect.objectContaining({
        msg: 'could not count pending webhook deliveries for the metrics',
        err: expect.objectContaining({ message: 'connection refused' }),
      }),
    ]);
    failing = false;
    expect((await scrape(metrics)).value('webhook_deliveries_pending')).toBe(7);
  });
});

describe('Metrics', () => {
  it('keeps a registry of its own: two instances in one process count apart', async () => {
    const one = metricsWith(async () => 0).metrics;
    const two = metricsWith(async () => 0).metrics;
    one.entries('link', 200, 3);
    one.transitions('relink_activated', 2);
    one.deliveryAttempt('failed');
    one.eventsCreated('partnerProgramLinked', 3);
    one.observeRequest('POST', '/v2/partnerProgram/linkCustomer', 200, 0.004);
    const [first, second] = [await scrape(one), await scrape(two)];
    expect(first.value('partner_program_entries_total', { endpoint: 'link', code: '200' })).toBe(3);
    expect(first.value('scheduler_transitions_total', { kind: 'relink_activated' })).toBe(2);
    expect(first.value('webhook_delivery_attempts_total', { outcome: 'failed' })).toBe(1);
    expect(first.value('events_created_total', { event: 'partnerProgramLinked' })).toBe(3);
    const request = { method: 'POST', route: '/v2/partnerProgram/linkCustomer', status_code: '200' };
    expect(first.value('http_request_duration_seconds_bucket', { ...request, le: '0.0025' })).toBe(0);
    expect(first.value('http_request_duration_seconds_bucket', { ...request, le: '0.005' })).toBe(1);
    expect(first.value('http_request_duration_seconds_count', request)).toBe(1);
    expect(second.series('partner_program_entries_total')).toEqual({});
    expect(second.value('scheduler_transitions_total', { kind: 'relink_activated' })).toBe(0);
    expect(second.value('webhook_delivery_attempts_total', { outcome: 'failed' })).toBe(0);
    expect(second.series('http_request_duration_seconds_count')).toEqual({});
  });
});
