import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { REDACTED_PATHS } from '../../src/log-redaction.js';
import { createLogger } from '../../src/server.js';

// SPEC §2b: no log line carries a password, secret, token or Authorization header.
function capture() {
  const lines: string[] = [];
  const logger = createLogger({ logLevel: 'trace' }, { write: (line: string) => void lines.push(line) });
  return { logger, lines, text: () => lines.join('') };
}

const SECRET = 'S3CRET-value-0123456789';

describe('the logger', () => {
  it.each([
    ['a Basic Authorization header', { req: { headers: { authorization: `Basic ${SECRET}` } } }],
    ['an OAuth token header', { req: { headers: { 'x-cap-api-oauth-token': SECRET } } }],
    ['request headers logged on their own', { headers: { authorization: `Bearer ${SECRET}`, cookie: SECRET } }],
    ['a token request body', { body: { key: 'client', secret: SECRET } }],
    ['a token answer', { body: { data: { accessToken: SECRET, ttlSeconds: 3600 } } }],
    ['a till body', { req: { body: { password: SECRET } } }],
    ['the custom headers of a webhook', { body: { url: 'http://x', headers: { 'X-Key': SECRET } } }],
    ['the settings', { config: { adminToken: SECRET, secretsKey: SECRET, databaseUrl: `postgres://u:${SECRET}@h/d` } }],
    ['top-level fields', { password: SECRET, token: SECRET, secret: SECRET, authorization: SECRET }],
    ['a response that sets a cookie', { res: { headers: { 'set-cookie': SECRET } } }],
  ])('redacts %s', (_name, fields) => {
    const { logger, text } = capture();
    logger.info(fields, 'a line');
    expect(text()).not.toContain(SECRET);
    expect(text()).toContain('[redacted]');
  });

  it("redacts the raw bytes of a request Node's parser refused, and what an error carries", () => {
    const { logger, text } = capture();
    const refused = Object.assign(new Error('Parse Error: Invalid header value char'), {
      code: 'HPE_INVALID_HEADER_TOKEN',
      rawPacket: Buffer.from(`GET / HTTP/1.1\r\nAuthorization: Basic ${SECRET}\r\n\r\n`),
    });
    logger.debug({ err: refused, code: 400 }, 'malformed HTTP request');
    const wrapped = Object.assign(new Error('outer', { cause: refused }), { config: { adminToken: SECRET } });
    logger.error({ err: wrapped }, 'request failed');
    const [first, second] = text()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(first.err).toMatchObject({ code: 'HPE_INVALID_HEADER_TOKEN', rawPacket: '[redacted]' });
    expect(second.err.config).toEqual({ adminToken: '[redacted]' });
    expect(text()).not.toContain(SECRET);
    expect(text()).not.toContain(JSON.stringify([...Buffer.from(SECRET)]).slice(1, -1));
  });

  it("redacts through the child loggers Fastify makes (the app's, then each request's)", () => {
    const { logger, text } = capture();
    const app = logger.child({}, { serializers: { req: (req: { headers: object }) => req } });
    app.child({ reqId: 'req-1' }).info({ req: { headers: { authorization: SECRET } } }, 'incoming request');
    expect(text()).toContain('"reqId":"req-1"');
    expect(text()).not.toContain(SECRET);
  });

  it('keeps what is not a secret, the request id included', () => {
    const { logger, lines } = capture();
    logger.child({ reqId: 'req-1' }).info({ req: { method: 'GET', url: '/v2/x' }, key: 'client-key' }, 'incoming');
    expect(JSON.parse(lines[0]!)).toMatchObject({
      reqId: 'req-1',
      req: { method: 'GET', url: '/v2/x' },
      key: 'client-key',
      msg: 'incoming',
    });
  });

  it('never throws from a log call, whatever holds a Buffer', () => {
    const { logger, lines } = capture();
    const buffer = Buffer.from('bytes');
    logger.info(
      { raw: buffer, a: { b: buffer }, c: { d: { e: { f: buffer } } }, body: { data: buffer }, g: [buffer] },
      'buffers',
    );
    logger.error({ err: Object.assign(new Error('x'), { headers: { h: buffer }, cause: { rawPacket: buffer } }) }, 'e');
    expect(lines).toHaveLength(2);
  });

  it('names every path explicitly (a path with two wildcards crashes the log call on a Buffer, upstream)', () => {
    expect(REDACTED_PATHS.filter((path) => path.includes('*'))).toEqual([]);
    // The upstream behaviour the rule above avoids; when this stops throwing, the rule may go.
    const upstream = pino({ redact: ['*.*.password'] }, { write: () => undefined });
    expect(() => upstream.info({ a: Buffer.from('x') }, 'x')).toThrow(TypeError);
  });
});
