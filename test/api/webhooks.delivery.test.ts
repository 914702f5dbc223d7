import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Declarations } from '../../src/domain/configuration/declarations.js';
import { newSecret, putSubscription, Receiver, type ReceivedRequest } from '../support/receiver.js';
import { startTestServer, TEST_ADMIN_TOKEN, type TestServer } from '../support/server.js';

// SPEC §9.3–§9.4 as a receiver sees them: Standard Webhooks requests from the service's own
// delivery worker, retried on the schedule of the sandbox clock, and the admin API's view of it.
const NOW = '2026-06-15T06:30:00Z';
const TIMEOUT_MS = 1_000;
const SCHEDULE_MS = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000];

/** One org per test, so that no test sees another's events: org 800 + n, loyalty program 80 + n. */
const ORGS = { headers: 801, retry: 802, schedule: 803, slow: 804, inactive: 805, deleted: 806, listing: 807 };
const tillOf = (org: number): [string, string] => [`till.${org}`, `secret-${org}`];
const mobileOf = (org: number, n: number) => `91${org}${String(n).padStart(7, '0')}`;

function declarations(): Declarations {
  return {
    orgs: Object.values(ORGS).map((org) => ({
      id: org,
      name: `Org ${org}`,
      timezone: 'Asia/Kolkata',
      loyaltyPrograms: [
        {
          id: org - 720,
          name: 'Main',
          partnerPrograms: [
            { name: 'Goldstar', type: 'EXTERNAL', tiers: ['Silver', 'Gold'] },
            { name: 'Coalition', type: 'EXTERNAL' },
          ],
        },
      ],
      tills: [{ username: tillOf(org)[0], password: tillOf(org)[1], accessGroups: ['DEFAULT'] }],
      customers: Array.from({ length: 30 }, (_, i) => ({ mobile: mobileOf(org, i + 1), loyaltyPrograms: [org - 720] })),
    })),
  };
}

let server: TestServer;
let receiver: Receiver;
const created: Array<[number, string]> = [];
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

beforeAll(async () => {
  receiver = await Receiver.start();
  server = await startTestServer({
    declarations: declarations(),
    now: NOW,
    sandbox: true,
    deliveries: { timeoutMs: TIMEOUT_MS },
  });
});
afterAll(async () => {
  await server?.close();
  await receiver?.close();
});
afterEach(async () => {
  // A test's subscriptions go with it: their retries must not run into the next test.
  for (const [org, name] of created.splice(0)) {
    await server.request('DELETE', `/admin/v1/orgs/${org}/webhooks/${name}`, { admin: true });
  }
  receiver.release();
  receiver.assertAllVerified();
});

async function subscribe(
  org: number,
  name: string,
  path: string,
  extra: { active?: boolean; headers?: Record<string, string>; events?: string[] } = {},
) {
  const secret = newSecret();
  const response = await putSubscription(server.url, TEST_ADMIN_TOKEN, org, name, {
    url: receiver.url(path, secret),
    events: extra.events ?? ['*'],
    secret,
    ...(extra.active === undefined ? {} : { active: extra.active }),
    ...(extra.headers ? { headers: extra.headers } : {}),
  });
  expect(response.status).toBe(201);
  created.push([org, name]);
  return response.body;
}

/** Links customers `from`..`from+count-1` of `org` to `program` in one request. */
async function linkCustomers(org: number, from: number, count: number, program = 'Coalition') {
  const response = await server.request('POST', '/v2/partnerProgram/linkCustomer', {
    auth: tillOf(org),
    body: {
      linkCustomers: Array.from({ length: count }, (_, i) => ({
        customer: { mobile: mobileOf(org, from + i) },
        linkToPartnerPrograms: [
          { partnerProgramName: program, customerPartnerReference: { partnerMembershipId: 'M' } },
        ],
      })),
    },
  });
  expect(response.status).toBe(200);
  return response;
}

/** The event log of `org`, newest first. */
async function eventLog(org: number): Promise<Json[]> {
  const response = await server.request('GET', `/admin/v1/orgs/${org}/events?limit=100`, { admin: true });
  expect(response.status).toBe(200);
  return response.body.events;
}

async function deliveries(org: number, name: string, query = ''): Promise<Json> {
  const response = await server.request('GET', `/admin/v1/orgs/${org}/webhooks/${name}/deliveries?${query}`, {
    admin: true,
  });
  expect(response.status).toBe(200);
  return response.body;
}

/** Polls the deliveries listing until the delivery of `eventId` satisfies `done`. */
async function deliveryWhen(org: number, name: string, eventId: string, done: (d: Json) => boolean, withinMs = 5_000) {
  const deadline = performance.now() + withinMs;
  let last: Json;
  for (;;) {
    last = (await deliveries(org, name, 'limit=100')).deliveries.find((d: Json) => d.eventId === eventId);
    if (last && done(last)) return last;
    if (performance.now() > deadline) {
      throw new Error(
        `delivery of ${eventId} to ${name}: not as expected within ${withinMs} ms: ${JSON.stringify(last)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function setClock(now: string | number) {
  const iso = typeof now === 'number' ? new Date(now).toISOString() : now;
  const response = await server.request('PUT', '/admin/v1/clock', { admin: true, body: { now: iso } });
  expect(response.status).toBe(200);
  return Date.parse(response.body.now);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function expectStandardHeaders(request: ReceivedRequest) {
  expect(request.verified).toBe(true);
  expect(request.method).toBe('POST');
  expect(request.headers['content-type']).toMatch(/^application\/json(;|$)/);
  expect(request.headers['webhook-id']).toBe(request.body.eventId);
  expect(request.headers['webhook-timestamp']).toMatch(/^\d+$/);
  // Real unix seconds, whatever the sandbox clock says.
  expect(Math.abs(Number(request.headers['webhook-timestamp']) - request.receivedAt / 1000)).toBeLessThan(5);
  expect(request.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+={0,2}( v1,[A-Za-z0-9+/]+={0,2})*$/);
}

describe('a delivery', () => {
  it('arrives within a second of the commit, verified, with the Standard Webhooks headers and the custom ones', async () => {
    const org = ORGS.headers;
    const answer = await subscribe(org, 'main', '/headers', {
      headers: { authorization: 'Bearer receiver-own-token', 'x-tenant': 'brand-801' },
    });
    expect(Object.keys(answer.headers).sort()).toEqual(['authorization', 'x-tenant']);
    const committed = Date.now();
    await linkCustomers(org, 1, 3);
    const requests = await receiver.waitForCount('/headers', 3, 3_000);
    for (const request of requests) {
      expectStandardHeaders(request);
      expect(request.headers.authorization).toBe('Bearer receiver-own-token');
      expect(request.headers['x-tenant']).toBe('brand-801');
      expect(request.receivedAt - committed).toBeLessThan(1_000);
    }
    const log = await eventLog(org);
    expect(requests.map((r) => r.webhookId).sort()).toEqual(log.map((e) => e.eventId).sort());
    const listed = (await server.request('GET', `/admin/v1/orgs/${org}/webhooks`, { admin: true })).body;
    expect(listed.webhooks).toHaveLength(1);
    expect(listed.webhooks[0]).toMatchObject({
      name: 'main',
      url: receiver.url('/headers'),
      events: ['*'],
      active: true,
    });
    // Header values are never shown again, only masked.
    expect(listed.webhooks[0].headers).toEqual({ authorization: '***', 'x-tenant': '***' });
    expect(listed.webhooks[0].secret).toBeUndefined();
    const done = await deliveryWhen(org, 'main', log[0].eventId, (d) => d.status === 'SUCCEEDED');
    expect(Object.keys(done).sort()).toEqual(
      [
        'eventId',
        'eventName',
        'status',
        'attempts',
        'lastAttemptAt',
        'lastResponseStatus',
        'lastError',
        'nextAttemptAt',
        'succeededAt',
        'createdAt',
      ].sort(),
    );
    expect(done).toMatchObject({
      eventId: log[0].eventId,
      eventName: 'partnerProgramLinked',
      attempts: 1,
      lastResponseStatus: 200,
      lastError: null,
      nextAttemptAt: null,
      createdAt: log[0].createdAt,
    });
    expect(typeof done.succeededAt).toBe('string');
  });

  it('is retried with the same webhook-id after a failed attempt', async () => {
    const org = ORGS.retry;
    await subscribe(org, 'flaky', '/flaky');
    receiver.answer('/flaky', (_, n) => ({ status: n === 1 ? 500 : 204 }));
    await linkCustomers(org, 1, 1);
    const [first] = await receiver.waitForCount('/flaky', 1);
    const failed = await deliveryWhen(org, 'flaky', first!.webhookId!, (d) => d.attempts === 1);
    expect(failed).toMatchObject({ status: 'PENDING', lastResponseStatus: 500, succeededAt: null });
    expect(failed.lastError).toEqual(expect.any(String));
    await setClock(Date.parse(failed.nextAttemptAt) + 1);
    const [, second] = await receiver.waitForCount('/flaky', 2, 1_500);
    expectStandardHeaders(second!);
    expect(second!.webhookId).toBe(first!.webhookId);
    expect(second!.rawBody).toBe(first!.rawBody);
    expect(await deliveryWhen(org, 'flaky', first!.webhookId!, (d) => d.status === 'SUCCEEDED')).toMatchObject({
      attempts: 2,
      lastResponseStatus: 204,
      nextAttemptAt: null,
    });
  });

  it('follows the schedule of the sandbox clock through 8 attempts to FAILED; a manual retry then delivers it', async () => {
    const org = ORGS.schedule;
    await subscribe(org, 'down', '/down');
    receiver.answer('/down', { status: 503 });
    let serviceNow = await setClock('2026-06-20T00:00:00Z');
    await linkCustomers(org, 1, 1);
    const [event] = await eventLog(org);
    const gaps: number[] = [];
    for (let attempt = 1; attempt <= 8; attempt++) {
      const requests = await receiver.waitForCount('/down', attempt, 1_500);
      expect(requests.every((r) => r.webhookId === event.eventId)).toBe(true);
      const delivery = await deliveryWhen(org, 'down', event.eventId, (d) => d.attempts === attempt);
      expect(delivery.lastResponseStatus).toBe(503);
      expect(delivery.lastError).toEqual(expect.any(String));
      expect(delivery.lastAttemptAt).toEqual(expect.any(String));
      if (attempt === 8) {
        expect(delivery).toMatchObject({ status: 'FAILED', nextAttemptAt: null, succeededAt: null });
        break;
      }
      expect(delivery.status).toBe('PENDING');
      const due = Date.parse(delivery.nextAttemptAt);
      gaps.push(due - serviceNow);
      if (attempt === 1) {
        // Not before it is due.
        await setClock(due - 1_000);
        await sleep(400);
        expect(receiver.requests('/down')).toHaveLength(1);
      }
      serviceNow = await setClock(due);
    }
    gaps.forEach((gap, i) => {
      expect(gap).toBeGreaterThanOrEqual(SCHEDULE_MS[i]!);
      expect(gap).toBeLessThanOrEqual(SCHEDULE_MS[i]! * 1.1);
    });
    const failed = await deliveries(org, 'down', 'status=FAILED');
    expect(failed.deliveries.map((d: Json) => d.eventId)).toEqual([event.eventId]);
    expect((await deliveries(org, 'down', 'status=PENDING')).deliveries).toEqual([]);

    await sleep(300);
    expect(receiver.requests('/down')).toHaveLength(8);
    receiver.answer('/down', { status: 200 });
    const retry = await server.request(
      'POST',
      `/admin/v1/orgs/${org}/webhooks/down/deliveries/${event.eventId}/retry`,
      { admin: true },
    );
    expect(retry.status).toBe(202);
    const all = await receiver.waitForCount('/down', 9, 1_500);
    expect(all[8]!.webhookId).toBe(event.eventId);
    expect(await deliveryWhen(org, 'down', event.eventId, (d) => d.status === 'SUCCEEDED')).toMatchObject({
      attempts: 9,
      lastResponseStatus: 200,
      nextAttemptAt: null,
    });
    const unknown = await server.request(
      'POST',
      `/admin/v1/orgs/${org}/webhooks/down/deliveries/00000000-0000-4000-8000-000000000000/retry`,
      { admin: true },
    );
    expect(unknown.status).toBe(404);
  });

  it('to a slow receiver does not hold up a fast one, nor the API', async () => {
    const org = ORGS.slow;
    await subscribe(org, 'slow', '/slow');
    await subscribe(org, 'fast', '/fast');
    receiver.answer('/slow', { hang: true });
    const started = Date.now();
    await linkCustomers(org, 1, 20);
    const answered = Date.now();
    expect(answered - started).toBeLessThan(1_000);
    const fast = await receiver.waitForCount('/fast', 20, 2_000);
    expect(Math.max(...fast.map((r) => r.receivedAt)) - answered).toBeLessThan(TIMEOUT_MS);
    // The slow receiver's first requests were still open while the fast one got all of its own.
    const slow = receiver.requests('/slow');
    expect(slow.length).toBeGreaterThan(0);
    expect(
      slow.some((r) => r.endedAtMs === undefined || r.endedAtMs > Math.max(...fast.map((f) => f.startedAtMs))),
    ).toBe(true);
    const timedOut = await deliveryWhen(org, 'slow', slow[0]!.webhookId!, (d) => d.attempts === 1, 3_000);
    expect(timedOut).toMatchObject({ status: 'PENDING', lastResponseStatus: null });
    expect(timedOut.lastError).toEqual(expect.any(String));
  });

  it('is not made for a subscription inactive when the event was created', async () => {
    const org = ORGS.inactive;
    await subscribe(org, 'on', '/on');
    await subscribe(org, 'off', '/off', { active: false });
    await linkCustomers(org, 1, 1);
    const [on] = await receiver.waitForCount('/on', 1);
    await sleep(500);
    expect(receiver.requests('/off')).toEqual([]);
    expect((await deliveries(org, 'off')).deliveries).toEqual([]);

    const secret = newSecret();
    const activated = await putSubscription(server.url, TEST_ADMIN_TOKEN, org, 'off', {
      url: receiver.url('/off', secret),
      events: ['*'],
      secret,
      active: true,
    });
    expect(activated.status).toBe(200);
    await linkCustomers(org, 2, 1);
    const [later] = await receiver.waitForCount('/off', 1);
    await sleep(300);
    expect(receiver.requests('/off').map((r) => r.webhookId)).toEqual([later!.webhookId]);
    expect(later!.webhookId).not.toBe(on!.webhookId);
  });

  it('stops when its subscription is deleted, whose paths then answer 404', async () => {
    const org = ORGS.deleted;
    await subscribe(org, 'gone', '/gone');
    await subscribe(org, 'kept', '/kept');
    receiver.answer('/gone', { status: 500 });
    await linkCustomers(org, 1, 1);
    const [first] = await receiver.waitForCount('/gone', 1);
    const pending = await deliveryWhen(org, 'gone', first!.webhookId!, (d) => d.attempts === 1);
    const removed = await server.request('DELETE', `/admin/v1/orgs/${org}/webhooks/gone`, { admin: true });
    expect(removed.status).toBe(204);

    for (const [method, path] of [
      ['GET', `/admin/v1/orgs/${org}/webhooks/gone/deliveries`],
      ['POST', `/admin/v1/orgs/${org}/webhooks/gone/deliveries/${first!.webhookId}/retry`],
      ['DELETE', `/admin/v1/orgs/${org}/webhooks/gone`],
    ] as const) {
      const response = await server.request(method, path, { admin: true });
      expect(response.status, `${method} ${path}`).toBe(404);
    }
    const listed = (await server.request('GET', `/admin/v1/orgs/${org}/webhooks`, { admin: true })).body.webhooks;
    expect(listed.map((w: Json) => w.name)).toEqual(['kept']);

    await setClock(Date.parse(pending.nextAttemptAt) + 60_000);
    await linkCustomers(org, 2, 1);
    await receiver.waitForCount('/kept', 2);
    await sleep(500);
    expect(receiver.requests('/gone')).toHaveLength(1);
  });
});

describe('the deliveries listing', () => {
  it('filters by status and pages with a cursor, newest first', async () => {
    const org = ORGS.listing;
    await subscribe(org, 'pager', '/pager');
    // Coalition links fail at the receiver, Goldstar links succeed.
    receiver.answer('/pager', (request) => ({
      status: request.body?.data?.partnerProgramName === 'Coalition' ? 500 : 200,
    }));
    const response = await server.request('POST', '/v2/partnerProgram/linkCustomer', {
      auth: tillOf(org),
      body: {
        linkCustomers: Array.from({ length: 6 }, (_, i) => ({
          customer: { mobile: mobileOf(org, i + 1) },
          linkToPartnerPrograms: [
            { partnerProgramName: 'Goldstar', customerPartnerReference: { partnerMembershipId: `G${i}` } },
            { partnerProgramName: 'Coalition', customerPartnerReference: { partnerMembershipId: `C${i}` } },
          ],
        })),
      },
    });
    expect(response.status).toBe(200);
    await receiver.waitForCount('/pager', 12);
    const log = await eventLog(org);
    expect(log).toHaveLength(12);
    const byProgram = (name: string) => log.filter((e) => e.data.partnerProgramName === name).map((e) => e.eventId);
    const deadline = performance.now() + 5_000;
    while ((await deliveries(org, 'pager', 'status=SUCCEEDED')).deliveries.length < 6 && performance.now() < deadline) {
      await sleep(25);
    }

    const all = (await deliveries(org, 'pager')).deliveries;
    expect(all.map((d: Json) => d.eventId)).toEqual(log.map((e) => e.eventId));
    const succeeded = (await deliveries(org, 'pager', 'status=SUCCEEDED')).deliveries;
    expect(succeeded.map((d: Json) => d.eventId)).toEqual(byProgram('Goldstar'));
    expect(succeeded.every((d: Json) => d.status === 'SUCCEEDED')).toBe(true);
    const failing = (await deliveries(org, 'pager', 'status=PENDING')).deliveries;
    expect(failing.map((d: Json) => d.eventId)).toEqual(byProgram('Coalition'));
    expect(failing.every((d: Json) => d.status === 'PENDING' && d.lastResponseStatus === 500)).toBe(true);
    expect((await deliveries(org, 'pager', 'status=FAILED')).deliveries).toEqual([]);

    const pages: Json[][] = [];
    let cursor: string | null = null;
    do {
      const page: Json = await deliveries(
        org,
        'pager',
        `limit=5${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      pages.push(page.deliveries);
      cursor = page.nextCursor;
    } while (cursor !== null && pages.length < 10);
    expect(pages.map((p) => p.length)).toEqual([5, 5, 2]);
    expect(pages.flat().map((d: Json) => d.eventId)).toEqual(log.map((e) => e.eventId));

    const first = await deliveries(org, 'pager', 'status=PENDING&limit=4');
    expect(first.deliveries).toHaveLength(4);
    const rest = await deliveries(
      org,
      'pager',
      `status=PENDING&limit=4&cursor=${encodeURIComponent(first.nextCursor)}`,
    );
    expect(rest.nextCursor).toBeNull();
    expect([...first.deliveries, ...rest.deliveries].map((d: Json) => d.eventId)).toEqual(byProgram('Coalition'));
  });
});
