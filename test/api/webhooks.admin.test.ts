import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Temporal } from 'temporal-polyfill';
import { applyDeclarations } from '../../src/domain/configuration/apply.js';
import { checkDeclarations } from '../../src/domain/configuration/declarations.js';
import { isWebhookSecret } from '../../src/domain/secrets.js';
import { eventBody, type EventName } from '../../src/model/event.js';
import { brandDeclarations, mobileOf, NOW, OTHER_ORG_TILL, TILL } from '../support/fixtures.js';
import { startTestServer, TEST_SECRETS, type TestResponse, type TestServer } from '../support/server.js';

// SPEC §9.3: subscriptions through the admin API and the config file, the event log, the
// deliveries listing and the manual retry. No delivery worker runs: deliveries stay as written.
let server: TestServer;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
const admin = (method: string, path: string, body?: unknown) =>
  server.request(method, `/admin/v1${path}`, { admin: true, body });
const messages = (response: TestResponse): string[] => response.body.errors.map((e: { message: string }) => e.message);
const stored = (orgId: number, name: string) =>
  server.database.db
    .selectFrom('webhook_subscriptions')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('name', '=', name)
    .executeTakeFirst();

beforeAll(async () => {
  server = await startTestServer({ declarations: brandDeclarations(10), now: NOW });
});
afterAll(() => server.close());

/** Links customers 1..count to `program` in one request, at the test clock's now. */
async function link(count: number, program: string, from = 1, auth = TILL) {
  const response = await server.request('POST', '/v2/partnerProgram/linkCustomer', {
    auth,
    body: {
      linkCustomers: Array.from({ length: count }, (_, i) => ({
        customer: { mobile: mobileOf(from + i) },
        linkToPartnerPrograms: [
          {
            partnerProgramName: program,
            customerPartnerReference: { partnerMembershipId: `M-${program}-${from + i}` },
          },
        ],
      })),
    },
  });
  expect(response.status).toBe(200);
}

describe('subscriptions', () => {
  it('creates with a generated secret, then replaces keeping what is left out', async () => {
    const created = await admin('PUT', '/orgs/100/webhooks/crm.main', {
      url: 'https://crm.example.com/hooks?x=1',
      events: ['partnerProgramLinked', 'partnerProgramDelinked'],
      headers: { Authorization: 'Bearer crm-token', 'x-tenant': 'brand' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      name: 'crm.main',
      url: 'https://crm.example.com/hooks?x=1',
      events: ['partnerProgramLinked', 'partnerProgramDelinked'],
      active: true,
      headers: { Authorization: 'Bearer crm-token', 'x-tenant': 'brand' },
      secret: expect.any(String),
    });
    const secret: string = created.body.secret;
    expect(isWebhookSecret(secret)).toBe(true);

    const row = (await stored(100, 'crm.main'))!;
    expect(TEST_SECRETS.open(row.secret_sealed)).toBe(secret);
    expect(JSON.parse(TEST_SECRETS.open(row.headers_sealed))).toEqual({
      Authorization: 'Bearer crm-token',
      'x-tenant': 'brand',
    });
    expect(row.header_names).toEqual(['Authorization', 'x-tenant']);
    expect(row.key_fingerprint).toBe(TEST_SECRETS.fingerprint);
    expect(row.secret_sealed).not.toContain(secret.slice(6));

    const masked = { Authorization: '***', 'x-tenant': '***' };
    const one = await admin('GET', '/orgs/100/webhooks/crm.main');
    expect(one).toMatchObject({ status: 200, body: { name: 'crm.main', active: true, headers: masked } });
    expect(one.body.secret).toBeUndefined();

    const replaced = await admin('PUT', '/orgs/100/webhooks/crm.main', {
      url: 'http://crm.example.com/v2',
      events: ['*'],
    });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toEqual({
      name: 'crm.main',
      url: 'http://crm.example.com/v2',
      events: ['*'],
      active: true,
      headers: { Authorization: 'Bearer crm-token', 'x-tenant': 'brand' },
      secret,
    });

    const rotated = await admin('PUT', '/orgs/100/webhooks/crm.main', {
      url: 'http://crm.example.com/v2',
      events: ['*'],
      secret: SECRET,
      active: false,
      headers: {},
    });
    expect(rotated).toMatchObject({ status: 200, body: { secret: SECRET, active: false, headers: {} } });
    expect(TEST_SECRETS.open((await stored(100, 'crm.main'))!.secret_sealed)).toBe(SECRET);
    // Left out again: the stored active flag stays.
    const kept = await admin('PUT', '/orgs/100/webhooks/crm.main', { url: 'http://crm.example.com/v2', events: ['*'] });
    expect(kept.body).toMatchObject({ active: false, secret: SECRET, headers: {} });

    await admin('PUT', '/orgs/100/webhooks/a-first', { url: 'https://a.example.com/', events: ['*'] });
    const listed = await admin('GET', '/orgs/100/webhooks');
    expect(listed.status).toBe(200);
    expect(listed.body.webhooks.map((w: Json) => w.name)).toEqual(['a-first', 'crm.main']);
    expect(listed.body.webhooks[0]).toEqual({
      name: 'a-first',
      url: 'https://a.example.com/',
      events: ['*'],
      active: true,
      headers: {},
    });
    expect(JSON.stringify(listed.body)).not.toContain('whsec_');
  });

  it.each([
    [{ url: 'ftp://x.example.com/', events: ['*'] }, 'url: must be an absolute http or https URL'],
    [{ url: '/relative', events: ['*'] }, 'url: must be an absolute http or https URL'],
    [{ events: ['*'] }, 'body: '],
    [{ url: 'https://x.example.com/', events: [] }, 'events: '],
    [{ url: 'https://x.example.com/', events: ['*', 'partnerProgramLinked'] }, 'events: "*" stands alone'],
    [
      { url: 'https://x.example.com/', events: ['partnerProgramLinkd'] },
      'events[0]: must be one of partnerProgramLinked',
    ],
    [{ url: 'https://x.example.com/', events: ['partnerProgramLinked', 'partnerProgramLinked'] }, 'events: '],
    [{ url: 'https://x.example.com/', events: ['*'], secret: 'whsec_c2hvcnQ=' }, 'secret: must be whsec_'],
    [{ url: 'https://x.example.com/', events: ['*'], secret: 'plain-secret' }, 'secret: must be whsec_'],
    [{ url: 'https://x.example.com/', events: ['*'], active: 'yes' }, 'active: '],
    [{ url: 'https://x.example.com/', events: ['*'], headers: { Host: 'a' } }, 'headers.Host: set by the service'],
    [{ url: 'https://x.example.com/', events: ['*'], headers: { 'Webhook-Id': 'a' } }, 'headers.Webhook-Id: set by'],
    [{ url: 'https://x.example.com/', events: ['*'], headers: { 'content-type': 'a' } }, 'headers.content-type: set'],
    [{ url: 'https://x.example.com/', events: ['*'], headers: { Connection: 'close' } }, 'headers.Connection: a hop'],
    [{ url: 'https://x.example.com/', events: ['*'], headers: { 'a b': 'x' } }, 'headers.a b: not a header name'],
    [{ url: 'https://x.example.com/', events: ['*'], headers: { 'x-a': 'v\r\nx-b: 1' } }, 'headers.x-a: the value'],
    [{ url: 'https://x.example.com/', events: ['*'], headers: { 'x-a': 1 } }, 'headers.x-a: '],
    [{ url: 'https://x.example.com/', events: ['*'], headers: { 'X-A': '1', 'x-a': '2' } }, 'headers.x-a: given twice'],
    [
      {
        url: 'https://x.example.com/',
        events: ['*'],
        headers: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`x-h${i}`, 'v'])),
      },
      'headers: ',
    ],
    [{ url: 'https://x.example.com/', events: ['*'], extra: 1 }, 'extra: '],
  ])('refuses %j naming the field', async (body, message) => {
    const response = await admin('PUT', '/orgs/100/webhooks/refused', body);
    expect(response.status).toBe(400);
    expect(response.body.warnings).toEqual([]);
    expect(response.body.errors[0]).toMatchObject({ status: false, code: 400 });
    expect(
      messages(response).some((m) => m.startsWith(message)),
      messages(response).join(' | '),
    ).toBe(true);
    expect(await stored(100, 'refused')).toBeUndefined();
  });

  it('refuses names outside 1-64 of [A-Za-z0-9_.-]', async () => {
    for (const name of ['a%20b', 'x'.repeat(65), 'caf%C3%A9']) {
      const response = await admin('PUT', `/orgs/100/webhooks/${name}`, {
        url: 'https://x.example.com/',
        events: ['*'],
      });
      expect(response.status, name).toBe(400);
      expect(messages(response)[0]).toMatch(/^name: /);
    }
    const longest = await admin('PUT', `/orgs/100/webhooks/${'x'.repeat(64)}`, {
      url: 'https://x.example.com/',
      events: ['*'],
    });
    expect(longest.status).toBe(201);
    expect((await admin('DELETE', `/orgs/100/webhooks/${'x'.repeat(64)}`)).status).toBe(204);
  });

  it('answers 404 for an unknown org or subscription, and 401 without the token', async () => {
    const body = { url: 'https://x.example.com/', events: ['*'] };
    expect((await admin('PUT', '/orgs/999/webhooks/x', body)).status).toBe(404);
    for (const path of ['/orgs/999/webhooks', '/orgs/999/webhooks/x', '/orgs/100/webhooks/none', '/orgs/999/events']) {
      const response = await admin('GET', path);
      expect(response.status, path).toBe(404);
      expect(response.body.errors[0].code).toBe(404);
    }
    expect((await admin('GET', '/orgs/100/webhooks/none/deliveries')).status).toBe(404);
    expect((await admin('DELETE', '/orgs/100/webhooks/none')).status).toBe(404);
    const unauthenticated = await server.request('GET', '/admin/v1/orgs/100/webhooks', { auth: null });
    expect(unauthenticated.status).toBe(401);
    const wrong = await server.request('GET', '/admin/v1/orgs/100/events', { headers: { authorization: 'Bearer no' } });
    expect(wrong.status).toBe(401);
  });
});

describe('the event log and the deliveries', () => {
  const events: Json[] = [];

  beforeAll(async () => {
    await admin('PUT', '/orgs/100/webhooks/log', { url: 'https://log.example.com/', events: ['*'] });
    await admin('PUT', '/orgs/100/webhooks/delinks', {
      url: 'https://d.example.com/',
      events: ['partnerProgramDelinked'],
    });
    await admin('PUT', '/orgs/200/webhooks/log', { url: 'https://other.example.com/', events: ['*'] });
    server.clock.advance({ minutes: 1 });
    await link(3, 'Goldstar');
    server.clock.advance({ minutes: 1 });
    await link(2, 'Coalition');
    await link(1, 'OtherOnly', 1, OTHER_ORG_TILL);
    const response = await admin('GET', '/orgs/100/events?limit=100');
    expect(response.status).toBe(200);
    events.push(...response.body.events);
  });

  it('lists the events newest first, each exactly as its receivers get it', async () => {
    expect(events).toHaveLength(5);
    const rows = await server.database.db
      .selectFrom('events')
      .selectAll()
      .where('org_id', '=', 100)
      .orderBy('created_at', 'desc')
      .orderBy('seq', 'desc')
      .execute();
    expect(events.map((e) => e.eventId)).toEqual(rows.map((r) => r.id));
    for (const [i, row] of rows.entries()) {
      const body = eventBody({
        seq: row.seq,
        id: row.id,
        orgId: row.org_id,
        name: row.event_name as EventName,
        customerId: row.customer_id,
        createdAt: Temporal.Instant.fromEpochMilliseconds(row.created_at.getTime()),
        source: row.source,
        apiRequestId: row.api_request_id,
        data: row.data,
      });
      expect(JSON.stringify(events[i])).toBe(body);
    }
    expect(events.map((e) => e.data.partnerProgramName)).toEqual([
      'Coalition',
      'Coalition',
      'Goldstar',
      'Goldstar',
      'Goldstar',
    ]);
    expect(events.every((e) => e.orgId === 100 && e.source === 'API')).toBe(true);
  });

  it('pages with an opaque cursor valid only with the same filters', async () => {
    const seen: Json[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `limit=2&cursor=${encodeURIComponent(cursor)}` : 'limit=2';
      const page: TestResponse = await admin('GET', `/orgs/100/events?${query}`);
      expect(page.status).toBe(200);
      expect(page.body.events.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.events);
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(events);
    expect((await admin('GET', '/orgs/100/events?limit=5')).body.nextCursor).toBeNull();

    const first = await admin('GET', '/orgs/100/events?limit=2&eventName=partnerProgramLinked');
    const next = encodeURIComponent(first.body.nextCursor);
    const same = await admin('GET', `/orgs/100/events?limit=2&eventName=partnerProgramLinked&cursor=${next}`);
    expect(same.body.events.map((e: Json) => e.eventId)).toEqual(events.slice(2, 4).map((e) => e.eventId));
    for (const query of [`cursor=${next}`, `eventName=partnerProgramDelinked&cursor=${next}`, 'cursor=bm9wZQ']) {
      const refused = await admin('GET', `/orgs/100/events?${query}`);
      expect(refused.status, query).toBe(400);
      expect(messages(refused)[0]).toMatch(/^cursor: /);
    }
    const otherOrg = await admin('GET', `/orgs/200/events?eventName=partnerProgramLinked&cursor=${next}`);
    expect(otherOrg.status).toBe(400);
  });

  it('filters by customer and event name, and names a bad parameter', async () => {
    const customerId = events[0].data.customerIdentifiers.customerId;
    const theirs = await admin('GET', `/orgs/100/events?customerId=${customerId}`);
    expect(theirs.body.events.map((e: Json) => e.eventId)).toEqual(
      events.filter((e) => e.data.customerIdentifiers.customerId === customerId).map((e) => e.eventId),
    );
    expect((await admin('GET', '/orgs/100/events?eventName=partnerProgramDelinked')).body).toEqual({
      events: [],
      nextCursor: null,
    });
    expect((await admin('GET', '/orgs/100/events?eventName=&limit=&customerId=')).body.events).toEqual(events);
    const cases: Array<[string, RegExp]> = [
      ['eventName=linked', /^eventName: must be one of partnerProgramLinked, .*supplementaryMembershipExpiryReminder$/],
      ['limit=0', /^limit: must be an integer from 1 to 100$/],
      ['limit=101', /^limit: /],
      ['limit=abc', /^limit: /],
      ['customerId=-1', /^customerId: must be a positive integer$/],
    ];
    for (const [query, message] of cases) {
      const response = await admin('GET', `/orgs/100/events?${query}`);
      expect(response.status, query).toBe(400);
      expect(messages(response)[0]).toMatch(message);
    }
  });

  it("lists a subscription's deliveries newest first, by status, a page at a time", async () => {
    const all = await admin('GET', '/orgs/100/webhooks/log/deliveries');
    expect(all.status).toBe(200);
    expect(all.body.nextCursor).toBeNull();
    expect(all.body.deliveries.map((d: Json) => d.eventId)).toEqual(events.map((e) => e.eventId));
    expect(all.body.deliveries[0]).toEqual({
      eventId: events[0].eventId,
      eventName: 'partnerProgramLinked',
      status: 'PENDING',
      attempts: 0,
      lastAttemptAt: null,
      lastResponseStatus: null,
      lastError: null,
      nextAttemptAt: events[0].createdAt,
      succeededAt: null,
      createdAt: events[0].createdAt,
    });
    expect((await admin('GET', '/orgs/100/webhooks/delinks/deliveries')).body.deliveries).toEqual([]);

    await server.database.db
      .updateTable('deliveries')
      .set({
        status: 'FAILED',
        attempts: 8,
        schedule_attempts: 8,
        next_attempt_at: null,
        last_attempt_at: new Date('2026-06-15T07:00:00.250Z'),
        last_response_status: 503,
        last_error: 'HTTP 503',
      })
      .where('event_id', 'in', [events[1].eventId, events[3].eventId])
      .execute();
    const failed = await admin('GET', '/orgs/100/webhooks/log/deliveries?status=FAILED&limit=1');
    expect(failed.body.deliveries).toMatchObject([
      { eventId: events[1].eventId, status: 'FAILED', attempts: 8, lastAttemptAt: '2026-06-15T07:00:00.250Z' },
    ]);
    const rest = await admin(
      'GET',
      `/orgs/100/webhooks/log/deliveries?status=FAILED&limit=1&cursor=${encodeURIComponent(failed.body.nextCursor)}`,
    );
    expect(rest.body).toMatchObject({ deliveries: [{ eventId: events[3].eventId }], nextCursor: null });
    const pending = await admin('GET', '/orgs/100/webhooks/log/deliveries?status=PENDING');
    expect(pending.body.deliveries.map((d: Json) => d.eventId)).toEqual([0, 2, 4].map((i) => events[i].eventId));
    const cursor = encodeURIComponent(failed.body.nextCursor);
    for (const path of [
      `/orgs/100/webhooks/log/deliveries?status=PENDING&cursor=${cursor}`,
      `/orgs/100/webhooks/delinks/deliveries?status=FAILED&cursor=${cursor}`,
    ]) {
      const response = await admin('GET', path);
      expect(response.status, path).toBe(400);
      expect(messages(response)[0]).toMatch(/^cursor: /);
    }
    const bad = await admin('GET', '/orgs/100/webhooks/log/deliveries?status=DONE');
    expect(bad.status).toBe(400);
    expect(messages(bad)).toEqual(['status: must be one of PENDING, SUCCEEDED, FAILED']);
  });

  it('retries a delivery now with a fresh schedule, keeping the count of attempts', async () => {
    server.clock.advance({ hours: 3 });
    const now = server.clock.now();
    await server.database.db
      .updateTable('deliveries')
      .set({ leased_until: new Date(), lease_token: '00000000-0000-4000-8000-000000000001' })
      .where('event_id', '=', events[1].eventId)
      .execute();
    const retried = await admin('POST', `/orgs/100/webhooks/log/deliveries/${events[1].eventId.toUpperCase()}/retry`);
    expect(retried.status).toBe(202);
    expect(retried.body).toMatchObject({
      eventId: events[1].eventId,
      status: 'PENDING',
      attempts: 8,
      lastResponseStatus: 503,
      nextAttemptAt: now.toString({ fractionalSecondDigits: 3 }),
    });
    const row = await server.database.db
      .selectFrom('deliveries')
      .selectAll()
      .where('event_id', '=', events[1].eventId)
      .innerJoin('webhook_subscriptions', (j) =>
        j
          .onRef('webhook_subscriptions.org_id', '=', 'deliveries.org_id')
          .onRef('webhook_subscriptions.id', '=', 'deliveries.subscription_id'),
      )
      .where('webhook_subscriptions.name', '=', 'log')
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ schedule_attempts: 0, attempts: 8, leased_until: null, lease_token: null });
    const listed = await admin('GET', '/orgs/100/webhooks/log/deliveries?status=FAILED');
    expect(listed.body.deliveries.map((d: Json) => d.eventId)).toEqual([events[3].eventId]);

    const unknown = [
      '/orgs/100/webhooks/log/deliveries/00000000-0000-4000-8000-000000000000/retry',
      '/orgs/100/webhooks/log/deliveries/not-a-uuid/retry',
      `/orgs/100/webhooks/delinks/deliveries/${events[1].eventId}/retry`,
      `/orgs/100/webhooks/none/deliveries/${events[1].eventId}/retry`,
      `/orgs/200/webhooks/log/deliveries/${events[1].eventId}/retry`,
      `/orgs/999/webhooks/log/deliveries/${events[1].eventId}/retry`,
    ];
    for (const path of unknown) {
      const response = await admin('POST', path);
      expect(response.status, path).toBe(404);
      expect(response.body.errors[0].code).toBe(404);
    }
  });

  it("keeps each org to its own: org 200's log and deliveries hold only its event", async () => {
    const theirs = await admin('GET', '/orgs/200/events');
    expect(theirs.body.events).toHaveLength(1);
    expect(theirs.body.events[0].orgId).toBe(200);
    const deliveries = await admin('GET', '/orgs/200/webhooks/log/deliveries');
    expect(deliveries.body.deliveries.map((d: Json) => d.eventId)).toEqual([theirs.body.events[0].eventId]);
    expect((await admin('GET', '/orgs/200/webhooks')).body.webhooks.map((w: Json) => w.name)).toEqual(['log']);
  });

  it('deletes a subscription with its deliveries; its paths answer 404 from then on', async () => {
    const { id } = (await stored(100, 'log'))!;
    const ofLog = () =>
      server.database.db.selectFrom('deliveries').select('event_seq').where('subscription_id', '=', id).execute();
    expect(await ofLog()).toHaveLength(5);
    expect((await admin('DELETE', '/orgs/100/webhooks/log')).status).toBe(204);
    expect(await ofLog()).toEqual([]);
    for (const [method, path] of [
      ['GET', '/orgs/100/webhooks/log'],
      ['GET', '/orgs/100/webhooks/log/deliveries'],
      ['POST', `/orgs/100/webhooks/log/deliveries/${events[0].eventId}/retry`],
      ['DELETE', '/orgs/100/webhooks/log'],
    ] as const) {
      expect((await admin(method, path)).status, `${method} ${path}`).toBe(404);
    }
    expect((await admin('GET', '/orgs/200/webhooks/log/deliveries')).body.deliveries).toHaveLength(1);
    // The event log keeps the events.
    expect((await admin('GET', '/orgs/100/events')).body.events).toHaveLength(5);
  });
});

describe('webhooks in the config file', () => {
  const declare = (webhooks: unknown[]) => {
    const declarations: Json = brandDeclarations(0);
    declarations.orgs = [{ ...declarations.orgs[1], webhooks }];
    return checkDeclarations(declarations);
  };
  const apply = (webhooks: unknown[]) =>
    applyDeclarations(server.database.db, declare(webhooks), {
      defaultTimezone: 'UTC',
      clock: server.clock,
      secrets: TEST_SECRETS,
    });

  it('creates or replaces by name, keeping a declared secret and generating a missing one once', async () => {
    await apply([
      { name: 'yaml-declared', url: 'https://y.example.com/', events: ['partnerProgramLinked'], secret: SECRET },
      { name: 'yaml-generated', url: 'https://g.example.com/', events: ['*'], active: false },
    ]);
    const generated = TEST_SECRETS.open((await stored(200, 'yaml-generated'))!.secret_sealed);
    expect(isWebhookSecret(generated)).toBe(true);
    expect(TEST_SECRETS.open((await stored(200, 'yaml-declared'))!.secret_sealed)).toBe(SECRET);
    await apply([
      { name: 'yaml-declared', url: 'https://y.example.com/2', events: ['*'], secret: SECRET, headers: { 'X-K': 'v' } },
      { name: 'yaml-generated', url: 'https://g.example.com/', events: ['*'] },
    ]);
    expect(TEST_SECRETS.open((await stored(200, 'yaml-generated'))!.secret_sealed)).toBe(generated);
    const listed = (await admin('GET', '/orgs/200/webhooks')).body.webhooks;
    expect(listed).toEqual([
      { name: 'log', url: 'https://other.example.com/', events: ['*'], active: true, headers: {} },
      { name: 'yaml-declared', url: 'https://y.example.com/2', events: ['*'], active: true, headers: { 'X-K': '***' } },
      { name: 'yaml-generated', url: 'https://g.example.com/', events: ['*'], active: false, headers: {} },
    ]);
  });
});
