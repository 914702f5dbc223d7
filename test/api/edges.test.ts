import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brandDeclarations, NOW, TILL } from '../support/fixtures.js';
import { basicHeader, startTestServer, TEST_ADMIN_TOKEN, type TestServer } from '../support/server.js';

// Every answer, whatever the request, is the JSON envelope of SPEC §3a with a status the OpenAPI
// document lists for the operation: also the refusals of Node's HTTP parser and Fastify's router.
const BODY_LIMIT = 4096;
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ declarations: brandDeclarations(5), now: NOW, bodyLimitBytes: BODY_LIMIT });
});
afterAll(() => server.close());

/** The whole-request error envelope, with `code`; the token endpoint's also carries `data: null`. */
function expectEnvelope(body: unknown, code?: number) {
  expect(body).toMatchObject({
    errors: [{ status: false, code: code ?? expect.any(Number), message: expect.stringMatching(/./) }],
    warnings: [],
  });
}

interface RawAnswer {
  statusLine: string;
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/** Writes `request` as it is on a socket of its own and reads the answer until the server closes it. */
function raw(request: string): Promise<RawAnswer> {
  const { hostname, port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let received = '';
    socket.setEncoding('latin1');
    socket.setTimeout(5000, () => socket.destroy(new Error('no answer within 5 s')));
    socket.on('data', (chunk: string) => (received += chunk));
    // The server may reset the connection right after its answer; what arrived is what counts.
    socket.on('error', (error) => (received ? undefined : reject(error)));
    socket.on('close', () => {
      const [head = '', body = ''] = received.split('\r\n\r\n');
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers = Object.fromEntries(
        lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
      );
      resolve({
        statusLine,
        status: Number(statusLine.split(' ')[1]),
        headers,
        body: body ? JSON.parse(body) : undefined,
      });
    });
    socket.write(request);
  });
}

describe("requests Node's HTTP parser refuses", () => {
  it('answers a control character in a header with 400 in the envelope, and closes the connection', async () => {
    const answer = await raw('GET /health HTTP/1.1\r\nHost: test\r\nX-Test: a\x0bb\r\n\r\n');
    expect(answer.statusLine).toBe('HTTP/1.1 400 Bad Request');
    expect(answer.headers).toMatchObject({ 'content-type': 'application/json; charset=utf-8', connection: 'close' });
    expectEnvelope(answer.body, 400);
    expect(answer.body).toMatchObject({ errors: [{ message: expect.stringMatching(/^Malformed HTTP request/) }] });
  });

  it('answers a broken request line with 400 in the envelope', async () => {
    const answer = await raw('GET /health HTTP/9.9\r\nHost: test\r\n\r\n');
    expect(answer.status).toBe(400);
    expectEnvelope(answer.body, 400);
  });

  it('answers headers over the size limit with 431 in the envelope', async () => {
    const answer = await raw(`GET /health HTTP/1.1\r\nHost: test\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(answer.statusLine).toBe('HTTP/1.1 431 Request Header Fields Too Large');
    expect(answer.headers.connection).toBe('close');
    expectEnvelope(answer.body, 431);
  });

  it('answers an HTTP/1.1 request without Host with 400 in the envelope', async () => {
    const answer = await raw('GET /health HTTP/1.1\r\nConnection: close\r\n\r\n');
    expect(answer.status).toBe(400);
    expect(answer.headers['x-request-id']).toMatch(/./);
    expect(answer.body).toEqual({
      errors: [{ status: false, code: 400, message: 'An HTTP/1.1 request needs a Host header' }],
      warnings: [],
    });
  });

  it('answers CONNECT with 400 in the envelope instead of closing the connection unanswered', async () => {
    const answer = await raw('CONNECT 127.0.0.1:80 HTTP/1.1\r\nHost: 127.0.0.1:80\r\n\r\n');
    expect(answer.status).toBe(400);
    expect(answer.headers.connection).toBe('close');
    expect(answer.body).toEqual({
      errors: [{ status: false, code: 400, message: 'CONNECT is not served: this service is not a proxy' }],
      warnings: [],
    });
  });

  it('answers a request whose Expect it does not know, instead of an empty 417', async () => {
    const answer = await raw('GET /health HTTP/1.1\r\nHost: test\r\nExpect: something\r\nConnection: close\r\n\r\n');
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ status: 'ok' });
  });
});

describe("URLs Fastify's router refuses", () => {
  it('answers a malformed percent-encoding with 400 in the envelope', async () => {
    for (const path of ['/admin/v1/orgs/%zz', '/v2/customers/%E0%A4%A/partnerPrograms']) {
      const response = await server.request('GET', path, { admin: true });
      expect(response.status).toBe(400);
      expect(response.headers.get('x-request-id')).toMatch(/./);
      expect(response.body).toEqual({
        errors: [{ status: false, code: 400, message: expect.stringMatching(/^Malformed URL: /) }],
        warnings: [],
      });
    }
  });

  it('reads path parameters up to 500 characters and answers longer ones with 400, never 414', async () => {
    const path = (key: string) => `/admin/v1/orgs/100/oauthClients/${key}`;
    const long = await server.request('GET', path('k'.repeat(150)), { admin: true });
    expect(long.status).toBe(400);
    expect(long.body.errors).toEqual([
      { status: false, code: 400, message: 'key: must not have more than 100 characters' },
    ]);
    const tooLong = await server.request('GET', path('k'.repeat(501)), { admin: true });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body).toEqual({
      errors: [{ status: false, code: 400, message: 'A path parameter is longer than 500 characters' }],
      warnings: [],
    });
  });
});

describe('methods a path does not serve', () => {
  it.each([
    ['DELETE', '/v2/partnerProgram/linkCustomer', 'POST'],
    ['GET', '/v2/partnerProgram/linkCustomer', 'POST'],
    ['GET', '/v2/partnerProgram/linkCustomer/', 'POST'],
    ['POST', '/health', 'GET, HEAD'],
    ['PUT', '/admin/v1/orgs', 'GET, HEAD'],
    ['POST', '/admin/v1/orgs/100', 'GET, HEAD, PUT'],
    ['GET', '/admin/v1/orgs/100/tills/someone', 'PUT'],
    ['PATCH', '/admin/v1/clock', 'DELETE, GET, HEAD, PUT'],
  ])('answer %s %s with 405 and Allow: %s', async (method, path, allow) => {
    const response = await server.request(method, path, { admin: true });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe(allow);
    expect(response.body).toEqual({
      errors: [{ status: false, code: 405, message: `${method} is not allowed on ${path}; it answers ${allow}` }],
      warnings: [],
    });
  });

  it('still answers HEAD on a GET route, and 404 for a path that does not exist', async () => {
    const head = await server.request('HEAD', '/health');
    expect(head.status).toBe(200);
    expect(head.text).toBe('');
    for (const path of ['/v2/partnerProgram/unknown', '/admin/v1/orgs/100/nothing', '/']) {
      const response = await server.request('DELETE', path, { admin: true });
      expect(response.status).toBe(404);
      expect(response.headers.get('allow')).toBeNull();
      expectEnvelope(response.body, 404);
    }
  });
});

describe('every operation of the OpenAPI document', () => {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let doc: any;
  beforeAll(async () => {
    doc = (await server.request('GET', '/openapi.json')).body;
  });

  const PARAMETER_VALUES = ['100', 'x', '%zz', '0', 'a'.repeat(600)];
  const BODIES: Array<[string | undefined, string | undefined]> = [
    [undefined, undefined],
    ['application/json', '{'],
    ['application/json', 'null'],
    ['application/json', '[]'],
    ['application/json', '{"x":1}'],
    ['application/json', '{"__proto__":{"x":1}}'],
    ['application/json', JSON.stringify({ x: 'y'.repeat(BODY_LIMIT) })],
    ['application/xml', '<a/>'],
    ['text/plain', 'hello'],
  ];
  const QUERIES = ['', '?identifierName=phone&identifierValue=1', '?identifierName=id&identifierValue=abc&limit=x'];

  it('answers hostile requests with a documented status, every error in the envelope', async () => {
    const failures: string[] = [];
    let requests = 0;
    for (const [template, methods] of Object.entries(doc.paths as Record<string, Record<string, object>>)) {
      for (const [method, operation] of Object.entries(methods)) {
        const documented = Object.keys((operation as { responses: object }).responses);
        const credentials: Array<Record<string, string>> = template.startsWith('/admin/')
          ? [{}, { authorization: `Bearer ${TEST_ADMIN_TOKEN}` }]
          : [{}, { authorization: basicHeader(...TILL) }];
        const paths = template.includes('{')
          ? PARAMETER_VALUES.map((value) => template.replaceAll(/\{[^}]+\}/g, value))
          : [template];
        const bodies = ['post', 'put', 'patch', 'delete'].includes(method) ? BODIES : BODIES.slice(0, 1);
        for (const headers of credentials)
          for (const path of paths)
            for (const query of QUERIES)
              for (const [type, body] of bodies) {
                const response = await server.request(method.toUpperCase(), path + query, {
                  auth: null,
                  rawBody: body,
                  headers: type ? { ...headers, 'content-type': type } : headers,
                });
                requests++;
                const what = `${method.toUpperCase()} ${path.slice(0, 60)}${query} ${type ?? ''} ${body?.slice(0, 20) ?? ''} → ${response.status}`;
                if (!documented.includes(String(response.status))) failures.push(`${what}: status not documented`);
                else if (response.status >= 400) {
                  const envelope = response.body as { errors?: Array<Record<string, unknown>>; warnings?: unknown };
                  const [first] = envelope?.errors ?? [];
                  const wellFormed =
                    Array.isArray(envelope?.warnings) &&
                    first?.status === false &&
                    typeof first.code === 'number' &&
                    typeof first.message === 'string' &&
                    first.message !== '';
                  if (!wellFormed) failures.push(`${what}: not the envelope: ${response.text.slice(0, 120)}`);
                }
              }
      }
    }
    expect(requests).toBeGreaterThan(1000);
    expect(failures).toEqual([]);
  });
});

describe('values outside a listed set', () => {
  it('lists the allowed values, on the lookup and on the history', async () => {
    const auth = TILL;
    const lookup = await server.request('GET', '/v2/customers/lookup?identifierName=phone&identifierValue=1', { auth });
    expect(lookup.status).toBe(400);
    expect(lookup.body).toEqual({
      errors: [
        {
          status: false,
          code: 400,
          message: 'Invalid querystring.identifierName: must be one of mobile, email, externalId, id',
        },
      ],
      warnings: [],
    });
    const history = await server.request(
      'GET',
      '/v2/partnerProgram/customerActivityHistories?identifierName=phone&identifierValue=1&activityType=LINKINGUPDATES',
      { auth },
    );
    expect(history.status).toBe(400);
    expect(history.body.errors).toEqual([
      {
        status: false,
        code: 400,
        message: 'identifierName is required and must be one of mobile, email, externalId, id',
      },
    ]);
  });

  it('answers a history parameter given twice with 400 naming it, before any other check', async () => {
    const response = await server.request(
      'GET',
      '/v2/partnerProgram/customerActivityHistories?identifierName=phone&activityType=LINKINGUPDATES&activityType=x',
      { auth: TILL },
    );
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([{ status: false, code: 400, message: 'activityType must be given once' }]);
  });

  it('names a missing parameter in the path of the message', async () => {
    const response = await server.request('GET', '/v2/customers/lookup?identifierName=mobile', { auth: TILL });
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([
      { status: false, code: 400, message: 'Invalid querystring.identifierValue: is required' },
    ]);
  });

  it('lists the allowed values of a field of an admin body', async () => {
    const response = await server.request('PUT', '/admin/v1/orgs/100/partnerPrograms/New', {
      admin: true,
      body: { loyaltyProgramId: 1, type: 'COALITION' },
    });
    expect(response.status).toBe(400);
    expect(response.body.errors).toContainEqual({
      status: false,
      code: 400,
      message: 'type: must be one of EXTERNAL, SUPPLEMENTARY',
    });
  });
});
