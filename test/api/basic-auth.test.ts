import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brandDeclarations, NOW, TILL } from '../support/fixtures.js';
import { basicHeader, startTestServer, type TestServer } from '../support/server.js';

// Basic credentials carry md5hex(password); what `curl -u user:password` sends is refused with a hint.
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ declarations: brandDeclarations(), now: NOW });
});
afterAll(() => server.close());

const lookup = (authorization: string) =>
  server.request('GET', '/v2/customers/lookup?source=ALL&identifierName=mobile&identifierValue=1', {
    auth: null,
    headers: { authorization },
  });

describe('till credentials', () => {
  it('refuses the plain password with 401 and says the password is sent as its md5 hex', async () => {
    const plain = `Basic ${Buffer.from(`${TILL[0]}:${TILL[1]}`).toString('base64')}`;
    const response = await lookup(plain);
    expect(response.status).toBe(401);
    expect(response.body.errors[0]).toEqual({
      status: false,
      code: 401,
      message: expect.stringContaining('md5hex(password)'),
    });
  });

  it('refuses a wrong md5 hex without the hint, and lets the right one in', async () => {
    const wrong = await lookup(basicHeader(TILL[0], 'not-the-password'));
    expect(wrong.status).toBe(401);
    expect(wrong.body.errors[0].message).toBe('Authentication failed: send valid till credentials or an OAuth token');
    expect((await lookup(basicHeader(TILL[0], TILL[1]))).status).toBe(404);
  });
});
