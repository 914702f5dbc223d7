import type { redactOptions } from 'pino';

/**
 * SPEC §2b: no log line carries a password, secret, token or Authorization header. What the
 * service logs today carries none (Fastify's request serializer writes method, url, host and
 * remote address: no header, no body); these paths keep it so for anything that logs more:
 * headers or bodies at debug or trace, an error that holds a request or the settings, and the
 * raw bytes of a request Node's parser refused (`err.rawPacket`, logged at debug), which hold
 * its Authorization header.
 *
 * Explicit paths, no wildcard. @pinojs/redact 0.4 (pino 10's) throws from the log call on a
 * path with two wildcards when a line holds a Buffer, and each path costs about 1 µs on every
 * line whose first key it names (a leading `*`: every line). So `req` and `res`, on every
 * request's lines, get only what a request or answer could carry: measured, a request's two
 * lines cost 2 + 2 µs unredacted, 10 + 3 µs with these paths, 50 + 50 µs with a wildcard per
 * name. test/unit/log-redaction.test.ts keeps both facts in view.
 */
const HEADERS = ['authorization', 'proxy-authorization', 'x-cap-api-oauth-token', 'cookie'];
const BODY = ['password', 'secret', 'token', 'accessToken'];
const FIELDS = [
  ...BODY,
  'authorization',
  'adminToken',
  'metricsToken',
  'secretsKey',
  'oauthSigningKey',
  'databaseUrl',
  'privateKeyPem',
  'secretHash',
  'passwordHash',
  'rawPacket',
];

/** Where each list is looked for ('' = the top of the line). */
const PLACES: Array<[readonly string[], string[]]> = [
  [HEADERS, ['headers', 'req.headers', 'request.headers', 'err.headers']],
  [['set-cookie'], ['headers', 'res.headers']],
  [BODY, ['req.body', 'request.body', 'body.data']],
  [FIELDS, ['', 'body', 'config', 'err', 'err.cause', 'err.config', 'error', 'options']],
  // A webhook subscription's custom headers are its receiver's credentials: the whole value.
  [['headers'], ['body', 'req.body', 'request.body']],
];

const member = (name: string) => (/^[A-Za-z_$][\w$]*$/.test(name) ? `.${name}` : `["${name}"]`);
const pathOf = (place: string, name: string) => `${place}${member(name)}`.replace(/^\./, '');

export const REDACTED_PATHS: readonly string[] = PLACES.flatMap(([names, places]) =>
  places.flatMap((place) => names.map((name) => pathOf(place, name))),
);

export const LOG_REDACTION: redactOptions = { paths: [...REDACTED_PATHS], censor: '[redacted]' };
