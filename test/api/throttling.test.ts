import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ALPHA_CLIENT,
  ALPHA_DEFAULT_CLIENT,
  ALPHA_DEFAULT_TILL,
  ALPHA_HISTORY_TILL,
  ALPHA_ONLY,
  ALPHA_TILL,
  BETA_TILL,
  generateToken,
  securityDeclarations,
} from '../support/security.js';
import { startSecondServer, startTestServer, type TestResponse, type TestServer } from '../support/server.js';

// SPEC §10 throttling: 10 failed attempts for one username or key within 5 minutes → 429 until the window passes.
const NOW = '2026-06-15T06:30:00Z';
const LOOKUP = `/v2/customers/lookup/partnerPrograms?identifierName=mobile&identifierValue=${ALPHA_ONLY.mobile}`;
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ declarations: securityDeclarations(), now: NOW });
});
afterAll(() => server.close());

const lookupAs = (auth: [string, string], on = server) => on.request('GET', LOOKUP, { auth });
const expectThrottled = (response: TestResponse, retryAfter: number) => {
  expect(response.status).toBe(429);
  expect(response.headers.get('retry-after')).toBe(String(retryAfter));
  expect(response.body).toEqual({
    errors: [{ status: false, code: 429, message: expect.stringContaining(`${retryAfter} seconds`) }],
    warnings: [],
  });
};

async function failTimes(times: number, attempt: () => Promise<TestResponse>) {
  for (let i = 0; i < times; i++) expect((await attempt()).status).toBe(401);
}

describe('Basic credentials', () => {
  it('refuses even the right password after 10 failures, until 5 minutes after the first; other usernames go on', async () => {
    const [username, password] = ALPHA_TILL;
    try {
      await failTimes(10, () => lookupAs([username, 'wrong']));
      expectThrottled(await lookupAs(ALPHA_TILL), 300);
      expectThrottled(await lookupAs([username, 'wrong']), 300);
      expect((await lookupAs(BETA_TILL)).status).toBe(404);
      server.clock.advance({ seconds: 299 });
      expectThrottled(await lookupAs([username, password]), 1);
      server.clock.advance({ seconds: 1 });
      expect((await lookupAs(ALPHA_TILL)).status).toBe(200);
    } finally {
      server.clock.set(NOW);
    }
  });

  it('counts a sliding window: the tenth failure within 5 minutes throttles until the oldest of them is 5 minutes old', async () => {
    try {
      await failTimes(9, () => lookupAs([ALPHA_HISTORY_TILL[0], 'wrong']));
      server.clock.advance({ minutes: 4 });
      expect((await lookupAs(ALPHA_HISTORY_TILL)).status).toBe(403);
      await failTimes(1, () => lookupAs([ALPHA_HISTORY_TILL[0], 'wrong']));
      expectThrottled(await lookupAs(ALPHA_HISTORY_TILL), 60);
      server.clock.advance({ minutes: 1 });
      expect((await lookupAs(ALPHA_HISTORY_TILL)).status).toBe(403);
      await failTimes(1, () => lookupAs([ALPHA_HISTORY_TILL[0], 'wrong']));
      expect((await lookupAs(ALPHA_HISTORY_TILL)).status).toBe(403);
    } finally {
      server.clock.set(NOW);
    }
  });

  it('throttles an unknown username exactly like a known one', async () => {
    await failTimes(10, () => lookupAs(['nobody.till', 'x']));
    expectThrottled(await lookupAs(['nobody.till', 'x']), 300);
  });

  it('is shared by every instance on the database', async () => {
    const second = await startSecondServer(server);
    try {
      await failTimes(10, () => lookupAs([ALPHA_DEFAULT_TILL[0], 'wrong']));
      expectThrottled(await lookupAs(ALPHA_DEFAULT_TILL, second), 300);
    } finally {
      await second.close();
    }
  });
});

describe('OAuth token generation', () => {
  it('refuses even the right secret after 10 failures for the key, in the token envelope; other keys go on', async () => {
    try {
      await failTimes(10, () => generateToken(server, { key: ALPHA_CLIENT.key, secret: 'wrong-secret-000000' }));
      const throttled = await generateToken(server, ALPHA_CLIENT);
      expect(throttled.status).toBe(429);
      expect(throttled.headers.get('retry-after')).toBe('300');
      expect(throttled.body).toEqual({
        data: null,
        errors: [{ status: false, code: 429, message: expect.any(String) }],
        warnings: [],
      });
      expect((await generateToken(server, ALPHA_DEFAULT_CLIENT)).status).toBe(200);
      expect((await lookupAs(ALPHA_TILL)).status).not.toBe(429);
      server.clock.advance({ minutes: 5 });
      expect((await generateToken(server, ALPHA_CLIENT)).status).toBe(200);
    } finally {
      server.clock.set(NOW);
    }
  });
});

describe('storage', () => {
  it('forgets failures once they leave the window', async () => {
    const db = server.database.db;
    const count = async () =>
      Number(
        (
          await db
            .selectFrom('login_failures')
            .select((eb) => eb.fn.countAll<string>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    try {
      await failTimes(3, () => lookupAs(['forgotten.till', 'x']));
      expect(await count()).toBeGreaterThanOrEqual(3);
      server.clock.advance({ minutes: 10 });
      await failTimes(1, () => lookupAs(['another.till', 'x']));
      expect(await count()).toBe(1);
    } finally {
      server.clock.set(NOW);
    }
  });

  it('keeps no username in clear', async () => {
    const subjects = await server.database.db.selectFrom('login_failures').select('subject').execute();
    expect(subjects.map((s) => s.subject).join()).not.toMatch(/till/);
  });
});
