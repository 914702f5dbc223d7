import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TRANSITION_KINDS } from '../../src/domain/telemetry.js';
import { EVENT_NAMES } from '../../src/model/event.js';
import { brandDeclarations, customers, link, mobileOf, NOW, OTHER_ORG_TILL, TILL } from '../support/fixtures.js';
import { Scrape } from '../support/prometheus.js';
import { newSecret, putSubscription, Receiver } from '../support/receiver.js';
import { redoclyLint } from '../support/redocly.js';
import { startTestServer, TEST_ADMIN_TOKEN, type TestServer } from '../support/server.js';

// SPEC §2b: GET /metrics, scraped over real HTTP and read as Prometheus reads it. Counters are
// cumulative per process, so each test compares a scrape before with one after what it does.
const METRICS_TOKEN = 'metrics-token-0123456789';
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ declarations: brandDeclarations(20), now: NOW, defaultAuth: TILL });
});
afterAll(() => server?.close());
beforeEach(() => server.clock.set(NOW));

async function scrape(from: TestServer = server, headers: Record<string, string> = {}): Promise<Scrape> {
  const response = await from.request('GET', '/metrics', { headers, auth: null });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  return new Scrape(response.text);
}

/** How much the series `name{labels}` grew from `before` to `after`. */
const grew = (before: Scrape, after: Scrape, name: string, labels: Record<string, string>) =>
  after.count(name, labels) - before.count(name, labels);

const requests = (route: string, method = 'GET', status = '200') => ({ method, route, status_code: status });

describe('GET /metrics', () => {
  it('times requests by route template, and every unknown URL as one `unmatched` series', async () => {
    const random = randomBytes(8).toString('hex');
    const mobile = mobileOf(3);
    const email = 'c00003@example.com';
    const before = await scrape();
    const statusOf = async (...args: Parameters<TestServer['request']>) => (await server.request(...args)).status;
    expect(await statusOf('GET', '/health')).toBe(200);
    expect(await statusOf('GET', `/no/such/${random}`)).toBe(404);
    expect(await statusOf('DELETE', '/v2/partnerProgram/linkCustomer')).toBe(405);
    const lookup = `/v2/customers/lookup/partnerPrograms?identifierName=mobile&identifierValue=${mobile}`;
    expect(await statusOf('GET', lookup)).toBe(200);
    expect(await statusOf('GET', `/v2/customers/${encodeURIComponent(email)}/partnerPrograms`)).toBe(400);
    expect(await statusOf('GET', '/admin/v1/orgs/100', { admin: true })).toBe(200);
    const linked = await link(server, [
      [{ mobile }, [{ partnerProgramName: 'Coalition', customerPartnerReference: { partnerMembershipId: 'M3' } }]],
    ]);
    expect(linked.status).toBe(200);
    const after = await scrape();

    const count = 'http_request_duration_seconds_count';
    expect(grew(before, after, count, requests('/health'))).toBe(1);
    expect(grew(before, after, count, requests('unmatched', 'GET', '404'))).toBe(1);
    expect(grew(before, after, count, requests('unmatched', 'DELETE', '405'))).toBe(1);
    expect(grew(before, after, count, requests('/v2/customers/lookup/partnerPrograms'))).toBe(1);
    expect(grew(before, after, count, requests('/v2/customers/:id/partnerPrograms', 'GET', '400'))).toBe(1);
    expect(grew(before, after, count, requests('/admin/v1/orgs/:orgId'))).toBe(1);
    expect(grew(before, after, count, requests('/v2/partnerProgram/linkCustomer', 'POST'))).toBe(1);
    // The histogram's buckets are cumulative, up to +Inf, which holds every request.
    const labels = requests('/v2/partnerProgram/linkCustomer', 'POST');
    expect(after.value('http_request_duration_seconds_bucket', { ...labels, le: '+Inf' })).toBe(
      after.value(count, labels),
    );
    expect(after.value('http_request_duration_seconds_sum', labels)).toBeGreaterThan(0);

    // No label names a customer, and no URL is a label: only templates and the word `unmatched`.
    for (const secret of [random, mobile, email, encodeURIComponent(email), 'identifierValue']) {
      expect(after.text).not.toContain(secret);
    }
    const routes = new Set(after.samples.flatMap((s) => (s.labels.route === undefined ? [] : [s.labels.route])));
    for (const route of routes) expect(route).toMatch(/^(unmatched|\/[A-Za-z0-9/:._*-]*)$/);
    expect([...routes].filter((r) => /\d{6}/.test(r))).toEqual([]);
  });

  it('counts each program entry of a processed batch by endpoint and code', async () => {
    const before = await scrape();
    const mixed = await link(server, [
      [
        { mobile: mobileOf(4) },
        [
          {
            partnerProgramName: 'Goldstar',
            customerPartnerReference: {
              partnerMembershipId: 'G4',
              partnerTierName: 'Gold',
              partnerTierExpiryDate: '2027-06-30T23:59:59+05:30',
            },
          },
          { partnerProgramName: 'Coalition', customerPartnerReference: { partnerMembershipId: 'C4' } },
        ],
      ],
      [
        { mobile: mobileOf(5) },
        [{ partnerProgramName: 'NoSuchProgram', customerPartnerReference: { partnerMembershipId: 'X5' } }],
      ],
    ]);
    expect(mixed.status).toBe(201);
    const upgraded = await server.request('POST', '/v2/partnerProgram/customerPartnerProgramUpdate', {
      body: {
        customersPartnerUpdates: [
          {
            customer: { mobile: mobileOf(4) },
            partnerProgramUpdates: [
              {
                partnerProgramName: 'Goldstar',
                updateType: 'UPGRADE',
                updateDetails: { updatedTierName: 'Platinum', updatedTierExpiryDate: '2027-06-30T23:59:59+05:30' },
              },
            ],
          },
        ],
      },
    });
    expect(upgraded.status).toBe(200);
    const delinked = await server.request('POST', '/v2/partnerProgram/deLinkCustomer', {
      body: {
        deLinkCustomers: [
          { customer: { mobile: mobileOf(4) }, deLinkFromPartnerPrograms: [{ partnerProgramName: 'Coalition' }] },
          {
            customer: { mobile: '919999999999' },
            deLinkFromPartnerPrograms: [{ partnerProgramName: 'Coalition' }, { partnerProgramName: 'Goldstar' }],
          },
        ],
      },
    });
    expect(delinked.status).toBe(201);
    const after = await scrape();

    const entries = 'partner_program_entries_total';
    expect(grew(before, after, entries, { endpoint: 'link', code: '200' })).toBe(2);
    expect(grew(before, after, entries, { endpoint: 'link', code: '2006' })).toBe(1);
    expect(grew(before, after, entries, { endpoint: 'update', code: '200' })).toBe(1);
    expect(grew(before, after, entries, { endpoint: 'delink', code: '200' })).toBe(1);
    // An unknown customer's entries carry the customer's code, one per entry.
    expect(grew(before, after, entries, { endpoint: 'delink', code: '1011' })).toBe(2);
    const total = (s: Scrape) => Object.values(s.series(entries)).reduce((a, b) => a + b, 0);
    expect(total(after) - total(before)).toBe(7);

    const events = 'events_created_total';
    expect(grew(before, after, events, { event: 'partnerProgramLinked' })).toBe(2);
    expect(grew(before, after, events, { event: 'partnerProgramUpdated' })).toBe(1);
    expect(grew(before, after, events, { event: 'partnerProgramDelinked' })).toBe(1);
  });

  it('counts no entries for a whole-request error, and none for an idempotent replay', async () => {
    const before = await scrape();
    const path = '/v2/partnerProgram/linkCustomer';
    const json = { 'content-type': 'application/json' };
    expect((await server.request('POST', path, { rawBody: '{"linkCustomers": [', headers: json })).status).toBe(400);
    expect((await server.request('POST', path, { body: { linkCustomers: [] } })).status).toBe(400);
    const item = {
      customer: { mobile: mobileOf(6) },
      linkToPartnerPrograms: [
        { partnerProgramName: 'Coalition', customerPartnerReference: { partnerMembershipId: 'C6' } },
      ],
    };
    expect(
      (await server.request('POST', path, { body: { linkCustomers: [item] }, auth: ['brand.till', 'wrong'] })).status,
    ).toBe(401);
    expect((await server.request('POST', path, { body: { linkCustomers: [item] }, auth: null })).status).toBe(401);
    const middle = await scrape();
    expect(middle.series('partner_program_entries_total')).toEqual(before.series('partner_program_entries_total'));
    expect(middle.series('events_created_total')).toEqual(before.series('events_created_total'));
    // The whole-request errors are still requests, timed under their route.
    expect(grew(before, middle, 'http_request_duration_seconds_count', requests(path, 'POST', '401'))).toBe(2);
    expect(grew(before, middle, 'http_request_duration_seconds_count', requests(path, 'POST', '400'))).toBe(2);

    const headers = { 'idempotency-key': `metrics-${randomBytes(4).toString('hex')}` };
    for (let i = 0; i < 2; i++) {
      expect((await server.request('POST', path, { body: { linkCustomers: [item] }, headers })).status).toBe(200);
    }
    const after = await scrape();
    expect(grew(middle, after, 'partner_program_entries_total', { endpoint: 'link', code: '200' })).toBe(1);
    expect(grew(middle, after, 'events_created_total', { event: 'partnerProgramLinked' })).toBe(1);
  });

  it('counts the scheduler’s committed transitions by kind, and their events', async () => {
    const reference = (extra: Record<string, string> = {}) => ({ partnerMembershipId: 'S', ...extra });
    // A period of 30 days with a relink after it, and a period that starts on a later date.
    const periods = await link(server, [
      [{ mobile: mobileOf(10) }, [{ partnerProgramName: 'SPP_2', customerPartnerReference: reference() }]],
      [
        { mobile: mobileOf(11) },
        [{ partnerProgramName: 'SPP_1', customerPartnerReference: reference({ membershipStartDate: '2026-07-01' }) }],
      ],
    ]);
    expect(periods.status).toBe(200);
    const relink = await link(server, [
      [
        { mobile: mobileOf(10) },
        [{ partnerProgramName: 'SPP_2', customerPartnerReference: { membershipStartDate: '2026-07-20' } }],
      ],
    ]);
    expect(relink.status).toBe(200);
    const before = await scrape();
    server.clock.set('2026-07-21T00:00:00Z');
    const report = await server.runJobs();
    expect(report.transitions).toBe(2);
    const after = await scrape();

    const kinds = Object.fromEntries(
      TRANSITION_KINDS.map((kind) => [kind, grew(before, after, 'scheduler_transitions_total', { kind })]),
    );
    expect(kinds).toEqual({
      period_started: 1,
      relink_activated: 1,
      period_expired: 1,
      program_expired: 0,
      backup_started: 0,
      reminder: 0,
    });
    expect(grew(before, after, 'events_created_total', { event: 'supplementaryMembershipStarted' })).toBe(2);
    expect(grew(before, after, 'events_created_total', { event: 'supplementaryMembershipExpired' })).toBe(1);

    // Nothing more is due: another round counts nothing.
    await server.runJobs();
    expect((await scrape()).series('scheduler_transitions_total')).toEqual(after.series('scheduler_transitions_total'));
  });

  it('counts webhook attempts by outcome, and the PENDING backlog at each scrape', async () => {
    const receiver = await Receiver.start();
    try {
      const secret = newSecret();
      const subscribed = await putSubscription(server.url, TEST_ADMIN_TOKEN, 200, 'metrics', {
        url: receiver.url('/hook', secret),
        events: ['*'],
        secret,
      });
      expect(subscribed.status).toBe(201);
      const inOrg200 = { auth: OTHER_ORG_TILL };
      const attempts = (s: Scrape) => ({
        succeeded: s.value('webhook_delivery_attempts_total', { outcome: 'succeeded' }),
        failed: s.value('webhook_delivery_attempts_total', { outcome: 'failed' }),
      });
      const start = await scrape();
      expect(start.value('webhook_deliveries_pending')).toBe(0);

      const linked = await server.request('POST', '/v2/partnerProgram/linkCustomer', {
        ...inOrg200,
        body: {
          linkCustomers: [
            {
              customer: { mobile: mobileOf(1) },
              linkToPartnerPrograms: [
                { partnerProgramName: 'OtherOnly', customerPartnerReference: { partnerMembershipId: 'O1' } },
              ],
            },
          ],
        },
      });
      expect(linked.status).toBe(200);
      expect((await scrape()).value('webhook_deliveries_pending')).toBe(1);
      expect(await server.runDeliveries()).toEqual({ attempted: 1, succeeded: 1, failed: 0 });
      const delivered = await scrape();
      expect(delivered.value('webhook_deliveries_pending')).toBe(0);
      expect(attempts(delivered)).toEqual({
        succeeded: attempts(start).succeeded! + 1,
        failed: attempts(start).failed,
      });

      receiver.answer('/hook', { status: 500 });
      const delinked = await server.request('POST', '/v2/partnerProgram/deLinkCustomer', {
        ...inOrg200,
        body: {
          deLinkCustomers: [
            { customer: { mobile: mobileOf(1) }, deLinkFromPartnerPrograms: [{ partnerProgramName: 'OtherOnly' }] },
          ],
        },
      });
      expect(delinked.status).toBe(200);
      expect(await server.runDeliveries()).toEqual({ attempted: 1, succeeded: 0, failed: 1 });
      const failed = await scrape();
      // Retried later on the schedule: still PENDING.
      expect(failed.value('webhook_deliveries_pending')).toBe(1);
      expect(attempts(failed)).toEqual({
        succeeded: attempts(start).succeeded! + 1,
        failed: attempts(start).failed! + 1,
      });
      expect(receiver.requests('/hook').map((r) => r.answeredStatus)).toEqual([200, 500]);

      // Deleting the subscription cancels its pending delivery: the backlog is empty again.
      expect((await server.request('DELETE', '/admin/v1/orgs/200/webhooks/metrics', { admin: true })).status).toBe(204);
      expect((await scrape()).value('webhook_deliveries_pending')).toBe(0);
      receiver.assertAllVerified();
    } finally {
      await receiver.close();
    }
  });

  it('is listed in the OpenAPI document, open', async () => {
    const doc = (await server.request('GET', '/openapi.json')).body;
    expect(doc.paths['/metrics'].get).toMatchObject({ operationId: 'getMetrics', tags: ['ops'], security: [] });
    expect(doc.paths['/metrics'].get.responses['200'].content).toHaveProperty('text/plain');
    expect(doc.paths['/metrics'].get.responses).not.toHaveProperty('401');
    expect(doc.components.securitySchemes.metricsToken).toBeUndefined();
  });
});

describe('a fresh process, with METRICS_TOKEN', () => {
  let guarded: TestServer;
  beforeAll(async () => {
    guarded = await startTestServer({
      declarations: { orgs: [{ ...brandDeclarations(0).orgs[0]!, customers: customers(1) }] },
      now: NOW,
      metricsToken: METRICS_TOKEN,
    });
  });
  afterAll(() => guarded?.close());
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  it('answers 401 without the token or with a wrong one, and 200 with it', async () => {
    for (const headers of [
      {},
      bearer('wrong-token-0123456789'),
      bearer(TEST_ADMIN_TOKEN),
      bearer(`${METRICS_TOKEN}x`),
      { authorization: METRICS_TOKEN },
    ]) {
      const response = await guarded.request('GET', '/metrics', { headers, auth: null });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
      expect(response.body).toEqual({
        errors: [{ status: false, code: 401, message: expect.stringContaining('metrics token') }],
        warnings: [],
      });
      expect(response.text).not.toContain('process_cpu_seconds_total');
    }
    const scraped = await scrape(guarded, bearer(METRICS_TOKEN));
    expect(scraped.value('process_cpu_seconds_total')).toBeGreaterThan(0);
    // Probes stay open.
    expect((await guarded.request('GET', '/health', { auth: null })).status).toBe(200);
  });

  it('starts with every closed label set at 0, the Node.js defaults and an empty backlog', async () => {
    const scraped = await scrape(guarded, bearer(METRICS_TOKEN));
    expect(scraped.series('scheduler_transitions_total')).toEqual(
      Object.fromEntries(TRANSITION_KINDS.map((kind) => [`kind=${kind}`, 0])),
    );
    expect(scraped.series('webhook_delivery_attempts_total')).toEqual({ 'outcome=failed': 0, 'outcome=succeeded': 0 });
    expect(scraped.series('events_created_total')).toEqual(
      Object.fromEntries(EVENT_NAMES.map((event) => [`event=${event}`, 0])),
    );
    expect(scraped.series('partner_program_entries_total')).toEqual({});
    expect(scraped.value('webhook_deliveries_pending')).toBe(0);
    expect(scraped.value('process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(scraped.value('nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    expect(scraped.text).toMatch(/^# TYPE http_request_duration_seconds histogram$/m);
    expect(scraped.text).toMatch(/^# TYPE partner_program_entries_total counter$/m);
    expect(scraped.text).toMatch(/^# TYPE webhook_deliveries_pending gauge$/m);
  });

  it('says in the OpenAPI document that /metrics needs the token, and the document passes Redocly lint', async () => {
    const doc = (await guarded.request('GET', '/openapi.json')).body;
    expect(doc.paths['/metrics'].get.security).toEqual([{ metricsToken: [] }]);
    expect(doc.paths['/metrics'].get.responses).toHaveProperty('401');
    expect(doc.components.securitySchemes.metricsToken).toEqual({
      type: 'http',
      scheme: 'bearer',
      description: 'The METRICS_TOKEN setting',
    });
    const report = await redoclyLint(doc);
    expect(report.problems).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
  });
});
