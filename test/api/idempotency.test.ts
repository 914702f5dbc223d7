import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverBackend } from '../support/database.js';
import {
  ALPHA,
  ALPHA_CLIENT,
  ALPHA_TILL,
  alphaMobile,
  BETA_TILL,
  securityDeclarations,
  SHARED,
  tokenOf,
  withToken,
} from '../support/security.js';
import { startTestServer, type RequestOptions, type TestResponse, type TestServer } from '../support/server.js';

// SPEC §11 Idempotency-Key on link, update and delink.
const NOW = '2026-06-15T06:30:00Z';
const LINK = '/v2/partnerProgram/linkCustomer';
let server: TestServer;
let next = 1;
/** A fresh customer of org 700 for each test, so tests do not see each other's memberships. */
const freshMobile = () => alphaMobile(next++);

beforeAll(async () => {
  server = await startTestServer({ declarations: securityDeclarations(), now: NOW, lockTimeoutMs: 500 });
});
afterAll(() => server.close());

const linkBody = (mobile: string, program = 'Club') => ({
  linkCustomers: [
    {
      customer: { mobile },
      linkToPartnerPrograms: [
        { partnerProgramName: program, customerPartnerReference: { partnerMembershipId: `M-${mobile}` } },
      ],
    },
  ],
});
const withKey = (key: string, options: RequestOptions = { auth: ALPHA_TILL }): RequestOptions => ({
  ...options,
  headers: { ...options.headers, 'idempotency-key': key },
});
const send = (path: string, key: string, body: unknown, options?: RequestOptions) =>
  server.request('POST', path, { ...withKey(key, options), body });
const linkCode = (response: TestResponse) =>
  response.body.linkCustomers[0].linkToPartnerPrograms[0].partnerLinkStatus.code;
const replayed = (response: TestResponse) => response.headers.get('idempotent-replayed');

/** Memberships and activities of org 700: what a request that "changes nothing" must leave alone. */
async function changes(): Promise<string> {
  const db = server.database.db;
  const rows = await db.selectFrom('memberships').selectAll().where('org_id', '=', ALPHA).orderBy('id').execute();
  const activities = await db
    .selectFrom('membership_activities')
    .select(['id', 'activity_type'])
    .where('org_id', '=', ALPHA)
    .orderBy('id')
    .execute();
  return JSON.stringify({ rows, activities });
}

describe('a retry with the same key and body', () => {
  it('answers the first response again, marked as replayed, and changes nothing', async () => {
    const body = linkBody(freshMobile());
    const first = await send(LINK, 'retry-1', body);
    expect(first.status).toBe(200);
    expect(replayed(first)).toBeNull();
    const after = await changes();

    const again = await send(LINK, 'retry-1', body);
    expect(again.status).toBe(200);
    expect(replayed(again)).toBe('true');
    expect(again.headers.get('content-type')).toMatch(/^application\/json/);
    expect(again.text).toBe(first.text);
    expect(await changes()).toBe(after);
  });

  it('is the same request whatever the key order and whitespace of its JSON', async () => {
    const mobile = freshMobile();
    const first = await send(LINK, 'retry-2', linkBody(mobile));
    const reordered = `{ "linkCustomers": [ { "linkToPartnerPrograms": [ { "customerPartnerReference": { "partnerMembershipId": "M-${mobile}" }, "partnerProgramName": "Club" } ], "customer": { "mobile": "${mobile}" } } ] }`;
    const again = await server.request('POST', LINK, {
      auth: ALPHA_TILL,
      rawBody: reordered,
      headers: { 'idempotency-key': 'retry-2', 'content-type': 'application/json' },
    });
    expect(replayed(again)).toBe('true');
    expect(again.text).toBe(first.text);
  });

  it('replays a final answer of failed entries too (HTTP 400 with per-entry codes)', async () => {
    const body = linkBody(freshMobile(), 'NoSuchProgram');
    const first = await send(LINK, 'retry-3', body);
    expect(first.status).toBe(400);
    expect(linkCode(first)).toBe(2006);
    const again = await send(LINK, 'retry-3', body);
    expect({ status: again.status, text: again.text, replayed: replayed(again) }).toEqual({
      status: 400,
      text: first.text,
      replayed: 'true',
    });
  });

  it('works on update and delink', async () => {
    const mobile = freshMobile();
    await send(LINK, 'setup', linkBody(mobile));
    const updateBody = {
      customersPartnerUpdates: [
        {
          customer: { mobile },
          partnerProgramUpdates: [
            { partnerProgramName: 'Club', updateType: 'UPGRADE', updateDetails: { updatedTierName: 'Gold' } },
          ],
        },
      ],
    };
    const delinkBody = {
      deLinkCustomers: [{ customer: { mobile }, deLinkFromPartnerPrograms: [{ partnerProgramName: 'Club' }] }],
    };
    for (const [path, body] of [
      ['/v2/partnerProgram/customerPartnerProgramUpdate', updateBody],
      ['/v2/partnerProgram/deLinkCustomer', delinkBody],
    ] as const) {
      const first = await send(path, `op-${path}`, body);
      expect(first.status).toBe(200);
      const after = await changes();
      const again = await send(path, `op-${path}`, body);
      expect({ status: again.status, text: again.text, replayed: replayed(again) }).toEqual({
        status: 200,
        text: first.text,
        replayed: 'true',
      });
      expect(await changes()).toBe(after);
    }
  });
});

describe('a key reused with something else', () => {
  it('answers 422 for another body, and for the same body on another endpoint, changing nothing', async () => {
    const mobile = freshMobile();
    await send(LINK, 'mismatch', linkBody(mobile));
    const before = await changes();
    const otherBody = await send(LINK, 'mismatch', linkBody(freshMobile()));
    const otherEndpoint = await send('/v2/partnerProgram/deLinkCustomer', 'mismatch', linkBody(mobile));
    for (const response of [otherBody, otherEndpoint]) {
      expect(response.status).toBe(422);
      expect(response.body).toEqual({
        errors: [{ status: false, code: 422, message: expect.stringContaining('Idempotency-Key') }],
        warnings: [],
      });
    }
    expect(await changes()).toBe(before);
  });

  it.each([
    ['longer than 255 characters', 'k'.repeat(256)],
    ['with a space', 'my key'],
  ])('refuses a key %s with 400', async (_name, key) => {
    const response = await send(LINK, key, linkBody(freshMobile()));
    expect(response.status).toBe(400);
    expect(response.body.errors[0].message).toMatch(/Idempotency-Key/);
  });
});

describe('concurrent requests with one key', () => {
  it('run once: ten identical requests give one set of changes and ten identical answers, nine replayed', async () => {
    const mobile = freshMobile();
    const body = linkBody(mobile);
    const before = await server.database.db
      .selectFrom('membership_activities')
      .select('id')
      .where('org_id', '=', ALPHA)
      .execute();
    const answers = await Promise.all(Array.from({ length: 10 }, () => send(LINK, 'burst', body)));
    expect(new Set(answers.map((a) => `${a.status} ${a.text}`)).size).toBe(1);
    expect(linkCode(answers[0]!)).toBe(200);
    expect(answers.filter((a) => replayed(a) === 'true')).toHaveLength(9);
    const after = await server.database.db
      .selectFrom('membership_activities')
      .select('activity_type')
      .where('org_id', '=', ALPHA)
      .execute();
    expect(after.length - before.length).toBe(1);
  });

  it('with different keys do not wait for or replay each other', async () => {
    const body = linkBody(freshMobile());
    const answers = await Promise.all(['k-a', 'k-b', 'k-c'].map((key) => send(LINK, key, body)));
    expect(answers.map(replayed)).toEqual([null, null, null]);
    expect(answers.map(linkCode).sort()).toEqual([200, 2005, 2005]);
  });
});

describe('scope and lifetime', () => {
  it('is per credential and per org: the same key elsewhere is a new key', async () => {
    const mobile = freshMobile();
    const first = await send(LINK, 'shared-key', linkBody(mobile));
    expect(linkCode(first)).toBe(200);
    const token = await tokenOf(server, ALPHA_CLIENT);
    const viaClient = await send(LINK, 'shared-key', linkBody(mobile), withToken(token));
    expect(replayed(viaClient)).toBeNull();
    expect(linkCode(viaClient)).toBe(2005);
    const otherOrg = await send(LINK, 'shared-key', linkBody(SHARED.mobile), { auth: BETA_TILL });
    expect(replayed(otherOrg)).toBeNull();
    expect(linkCode(otherOrg)).toBe(200);
  });

  it('replays for 24 hours by the service clock, then is a new key', async () => {
    const body = linkBody(freshMobile());
    const first = await send(LINK, 'day-long', body);
    try {
      server.clock.advance({ hours: 23, minutes: 59 });
      expect(replayed(await send(LINK, 'day-long', body))).toBe('true');
      server.clock.advance({ minutes: 1 });
      const later = await send(LINK, 'day-long', body);
      expect(replayed(later)).toBeNull();
      expect(linkCode(first)).toBe(200);
      expect(linkCode(later)).toBe(2005);
      expect(replayed(await send(LINK, 'day-long', body))).toBe('true');
    } finally {
      server.clock.set(NOW);
    }
  });

  it('does not keep whole-request errors or refused credentials: the key stays free', async () => {
    const body = linkBody(freshMobile());
    expect((await send(LINK, 'not-kept', { linkCustomers: [] })).status).toBe(400);
    expect((await send(LINK, 'not-kept', body, { auth: null })).status).toBe(401);
    const real = await send(LINK, 'not-kept', body);
    expect(replayed(real)).toBeNull();
    expect(linkCode(real)).toBe(200);
  });

  // One PGlite connection cannot hold a row lock while the service works: the busy case needs PostgreSQL.
  it.skipIf(!serverBackend)(
    'does not keep an answer that asks for a retry (2010): the retry runs (PostgreSQL and Citus: a row lock held beside the service)',
    async () => {
      const mobile = freshMobile();
      let release!: () => void;
      let locked!: () => void;
      const isLocked = new Promise<void>((resolve) => (locked = resolve));
      const holder = server.database.db.transaction().execute(async (trx) => {
        await trx
          .selectFrom('customers')
          .select('id')
          .where('org_id', '=', ALPHA)
          .where('mobile', '=', mobile)
          .forUpdate()
          .execute();
        locked();
        await new Promise<void>((resolve) => (release = resolve));
      });
      await isLocked;
      const busy = await send(LINK, 'busy', linkBody(mobile));
      release();
      await holder;
      expect(linkCode(busy)).toBe(2010);
      const retry = await send(LINK, 'busy', linkBody(mobile));
      expect(replayed(retry)).toBeNull();
      expect(linkCode(retry)).toBe(200);
    },
  );
});
