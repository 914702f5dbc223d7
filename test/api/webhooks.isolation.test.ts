import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Declarations } from '../../src/domain/configuration/declarations.js';
import { newSecret, putSubscription, Receiver } from '../support/receiver.js';
import { startTestServer, TEST_ADMIN_TOKEN, type TestServer } from '../support/server.js';

// SPEC §9 and §10: events, deliveries and subscriptions belong to one org. Two orgs with the same
// customer mobiles and the same subscription names, each subscribed to `*`, never see each other.
const NOW = '2026-06-15T06:30:00Z';
const A = 910;
const B = 920;
const tillOf = (org: number): [string, string] => [`till.${org}`, `secret-${org}`];
const mobileOf = (n: number) => `9191000${String(n).padStart(5, '0')}`;

function declarations(): Declarations {
  return {
    orgs: [A, B].map((org) => ({
      id: org,
      name: `Org ${org}`,
      timezone: org === A ? 'Asia/Kolkata' : 'America/New_York',
      loyaltyPrograms: [
        {
          id: org / 10,
          name: 'Main',
          partnerPrograms: [
            { name: 'Goldstar', type: 'EXTERNAL', tiers: ['Silver', 'Gold'] },
            { name: 'SPP', type: 'SUPPLEMENTARY', membershipCycle: { unit: 'DAYS', value: 30 } },
          ],
        },
      ],
      tills: [{ username: tillOf(org)[0], password: tillOf(org)[1], accessGroups: ['DEFAULT'] }],
      customers: Array.from({ length: 10 }, (_, i) => ({ mobile: mobileOf(i + 1), loyaltyPrograms: [org / 10] })),
    })),
  };
}

let server: TestServer;
let receiver: Receiver;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
const events: Record<number, Json[]> = {};
const customerIds: Record<number, number[]> = {};

const pathOf = (org: number, name: string) => `/${org}/${name}`;
const get = async (path: string) => server.request('GET', path, { admin: true });

beforeAll(async () => {
  receiver = await Receiver.start();
  server = await startTestServer({ declarations: declarations(), now: NOW, deliveries: true });
  for (const org of [A, B]) {
    for (const name of ['shared', org === A ? 'a-only' : 'b-only']) {
      const secret = newSecret();
      const created = await putSubscription(server.url, TEST_ADMIN_TOKEN, org, name, {
        url: receiver.url(pathOf(org, name), secret),
        events: ['*'],
        secret,
      });
      expect(created.status).toBe(201);
    }
  }
  // Both orgs change the memberships of customers with the same mobiles, at the same time.
  const linkAll = (org: number) =>
    server.request('POST', '/v2/partnerProgram/linkCustomer', {
      auth: tillOf(org),
      body: {
        linkCustomers: Array.from({ length: 10 }, (_, i) => ({
          customer: { mobile: mobileOf(i + 1) },
          linkToPartnerPrograms: [
            { partnerProgramName: 'Goldstar', customerPartnerReference: { partnerMembershipId: `${org}-${i}` } },
            { partnerProgramName: 'SPP', customerPartnerReference: { partnerMembershipId: `${org}-${i}` } },
          ],
        })),
      },
    });
  const answers = await Promise.all([linkAll(A), linkAll(B)]);
  expect(answers.map((a) => a.status)).toEqual([200, 200]);
  for (const org of [A, B]) {
    const log = await get(`/admin/v1/orgs/${org}/events?limit=100`);
    expect(log.status).toBe(200);
    events[org] = log.body.events;
    customerIds[org] = [...new Set(events[org]!.map((e: Json) => e.data.customerIdentifiers.customerId as number))];
  }
  await Promise.all(
    [A, B].flatMap((org) =>
      ['shared', org === A ? 'a-only' : 'b-only'].map((name) => receiver.waitForCount(pathOf(org, name), 20)),
    ),
  );
});
afterAll(async () => {
  await server?.close();
  await receiver?.close();
});
afterEach(() => receiver.assertAllVerified());

const other = (org: number) => (org === A ? B : A);
const ownName = (org: number) => (org === A ? 'a-only' : 'b-only');

describe.each([
  ['A', A],
  ['B', B],
])('org %s', (_, org) => {
  it("receives its own events only, each signed with its own subscription's secret", async () => {
    await new Promise((resolve) => setTimeout(resolve, 300));
    const ids = new Set(events[org]!.map((e: Json) => e.eventId));
    expect(ids.size).toBe(20);
    for (const name of ['shared', ownName(org)]) {
      const received = receiver.requests(pathOf(org, name));
      expect(received.every((r) => r.verified && r.body.orgId === org)).toBe(true);
      expect(new Set(received.map((r) => r.webhookId))).toEqual(ids);
    }
    const theirs = new Set(events[other(org)]!.map((e: Json) => e.eventId));
    expect([...ids].filter((id) => theirs.has(id))).toEqual([]);
  });

  it("reads its own event log only, and nothing of the other org's customers", async () => {
    expect(events[org]!.every((e: Json) => e.orgId === org)).toBe(true);
    expect(customerIds[org]).toHaveLength(10);
    for (const customerId of customerIds[other(org)]!.filter((id) => !customerIds[org]!.includes(id))) {
      const response = await get(`/admin/v1/orgs/${org}/events?customerId=${customerId}`);
      expect([200, 404]).toContain(response.status);
      if (response.status === 200) expect(response.body.events).toEqual([]);
    }
    const theirs = await get(`/admin/v1/orgs/${other(org)}/events?limit=5`);
    expect(theirs.body.nextCursor).toEqual(expect.any(String));
    const withTheirCursor = await get(
      `/admin/v1/orgs/${org}/events?limit=5&cursor=${encodeURIComponent(theirs.body.nextCursor)}`,
    );
    if (withTheirCursor.status === 200) {
      expect(withTheirCursor.body.events.every((e: Json) => e.orgId === org)).toBe(true);
    } else {
      expect(withTheirCursor.status).toBe(400);
    }
  });

  it("lists its own subscriptions and deliveries only; every path naming the other org's answers 404", async () => {
    const listed = await get(`/admin/v1/orgs/${org}/webhooks`);
    expect(listed.status).toBe(200);
    expect(listed.body.webhooks.map((w: Json) => w.name).sort()).toEqual([ownName(org), 'shared'].sort());
    expect(listed.body.webhooks.every((w: Json) => w.url.startsWith(receiver.url(`/${org}/`)))).toBe(true);

    const shared = await get(`/admin/v1/orgs/${org}/webhooks/shared/deliveries?limit=100`);
    expect(shared.status).toBe(200);
    expect(new Set(shared.body.deliveries.map((d: Json) => d.eventId))).toEqual(
      new Set(events[org]!.map((e: Json) => e.eventId)),
    );

    const theirName = ownName(other(org));
    const theirEvent = events[other(org)]![0].eventId;
    const refused: Array<[string, string]> = [
      ['GET', `/admin/v1/orgs/${org}/webhooks/${theirName}/deliveries`],
      ['POST', `/admin/v1/orgs/${org}/webhooks/${theirName}/deliveries/${theirEvent}/retry`],
      ['POST', `/admin/v1/orgs/${org}/webhooks/shared/deliveries/${theirEvent}/retry`],
      ['DELETE', `/admin/v1/orgs/${org}/webhooks/${theirName}`],
    ];
    for (const [method, path] of refused) {
      const response = await server.request(method, path, { admin: true });
      expect(response.status, `${method} ${path}`).toBe(404);
    }
    // Their subscription is still there, untouched.
    const theirList = await get(`/admin/v1/orgs/${other(org)}/webhooks`);
    expect(theirList.body.webhooks.map((w: Json) => w.name).sort()).toEqual([theirName, 'shared'].sort());
  });

  it("a PUT with the other org's subscription name makes one of its own, and changes nothing of theirs", async () => {
    const theirName = ownName(other(org));
    const secret = newSecret();
    const made = await putSubscription(server.url, TEST_ADMIN_TOKEN, org, theirName, {
      url: receiver.url(`/${org}/borrowed`, secret),
      events: ['partnerProgramDelinked'],
      secret,
    });
    expect(made.status).toBe(201);
    const theirs = (await get(`/admin/v1/orgs/${other(org)}/webhooks`)).body.webhooks.find(
      (w: Json) => w.name === theirName,
    );
    expect(theirs).toMatchObject({ url: receiver.url(pathOf(other(org), theirName)), events: ['*'] });
    expect(
      (await server.request('DELETE', `/admin/v1/orgs/${org}/webhooks/${theirName}`, { admin: true })).status,
    ).toBe(204);
    expect((await get(`/admin/v1/orgs/${other(org)}/webhooks`)).body.webhooks.map((w: Json) => w.name)).toContain(
      theirName,
    );
  });
});

describe('an unknown org', () => {
  it.each([
    ['GET', '/admin/v1/orgs/999/webhooks'],
    ['GET', '/admin/v1/orgs/999/events'],
    ['GET', '/admin/v1/orgs/999/webhooks/shared/deliveries'],
    ['DELETE', '/admin/v1/orgs/999/webhooks/shared'],
  ])('%s %s answers 404', async (method, path) => {
    expect((await server.request(method, path, { admin: true })).status).toBe(404);
  });
});
