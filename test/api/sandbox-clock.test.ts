import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brandDeclarations, NOW } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/server.js';

// The sandbox clock of the admin API (SPEC §8), over a test clock standing in for real time.
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ declarations: brandDeclarations(), now: NOW, sandbox: true });
});
afterAll(() => server.close());

const put = (now: string) => server.request('PUT', '/admin/v1/clock', { admin: true, body: { now } });
const get = () => server.request('GET', '/admin/v1/clock', { admin: true });

describe('/admin/v1/clock', () => {
  it('answers the instant it was set to, then runs on from it', async () => {
    const moved = await put('2027-01-01T00:00:05+05:30');
    expect(moved.status).toBe(200);
    expect(moved.body).toEqual({ now: '2026-12-31T18:30:05.000Z', overridden: true });
    server.clock.advance({ milliseconds: 1500 });
    expect((await get()).body).toEqual({ now: '2026-12-31T18:30:06.500Z', overridden: true });
  });

  it('reads a now without an offset, or a date alone, in UTC', async () => {
    expect((await put('2027-03-01T12:00:00')).body.now).toBe('2027-03-01T12:00:00.000Z');
    expect((await put('2027-03-02')).body.now).toBe('2027-03-02T00:00:00.000Z');
  });

  it('returns to real time on DELETE', async () => {
    const back = await server.request('DELETE', '/admin/v1/clock', { admin: true });
    expect(back.status).toBe(200);
    expect(back.body).toEqual({ now: server.clock.now().toString({ smallestUnit: 'millisecond' }), overridden: false });
  });
});
