import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type {
  ConnectionError,
  FastifyBaseLogger,
  FastifyError,
  FastifyReply,
  FastifyRequest,
  FastifySchemaValidationError,
} from 'fastify';
import type { App } from './app-instance.js';
import { errorBody, httpStatusOf, sendError, type RequestErrorCode } from './envelope.js';

/** Path parameters longer than this answer 400 (Fastify's default of 100 is short for names and keys). */
export const MAX_PARAM_LENGTH = 500;

/**
 * Every failure that escapes a route becomes the JSON envelope of SPEC §3a: client mistakes
 * keep their 4xx status, and only a fault of the service itself answers 500. A path that exists
 * with other methods answers 405 with `Allow`; any other unknown path 404.
 */
export function registerErrorHandling(app: App): void {
  const routes = new RouteMethods();
  app.addHook('onRoute', (route) => routes.add(route.url, route.method));

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const [code, message] = classify(error);
    if (code === 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code, reason: error.message }, 'request rejected');
    void reply.code(httpStatusOf(code)).send(errorBody(code, message));
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '/';
    const allowed = routes.allowedOn(path);
    // A route that exists for this method (a static file route, say) found nothing: a plain 404.
    if (allowed.length === 0 || allowed.includes(request.method)) {
      return sendError(reply, 404, `No route for ${request.method} ${path}`);
    }
    void reply.header('Allow', allowed.join(', '));
    return sendError(reply, 405, `${request.method} is not allowed on ${path}; it answers ${allowed.join(', ')}`);
  });
}

/**
 * Fastify's `frameworkErrors`: the router's own refusals (a malformed percent-encoding, a path
 * parameter over MAX_PARAM_LENGTH) arrive here before any hook has run.
 */
export function answerFrameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const [code, message] = classify(error);
  request.log.info({ code, reason: error.message }, 'request rejected');
  void reply.header('X-Request-Id', request.id).code(httpStatusOf(code)).send(errorBody(code, message));
}

/**
 * Fastify's `clientErrorHandler`: Node's HTTP parser refused the request (a control character
 * in a header, headers over the size limit, a broken request line, a request not received in
 * time) before Fastify saw it. The connection cannot be trusted to carry another request, so the
 * answer closes it.
 */
export function answerClientError(logger: FastifyBaseLogger) {
  return (error: ConnectionError, socket: Socket): void => {
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const [code, message] = connectionErrorOf(error);
    logger.debug({ err: error, code }, 'malformed HTTP request');
    answerOnSocket(socket, code, message, error);
  };
}

/**
 * A listener of the server's `connect` event: Node hands a CONNECT request to it, or else closes
 * the connection without a word. The service is no proxy.
 */
export function refuseConnect(_request: unknown, socket: Socket): void {
  answerOnSocket(socket, 400, 'CONNECT is not served: this service is not a proxy');
}

/** Writes the envelope as a whole HTTP/1.1 answer on a socket that Fastify does not own, and closes it. */
function answerOnSocket(socket: Socket, code: 400 | 408 | 431, message: string, error?: Error): void {
  if (socket.writable) {
    const body = JSON.stringify(errorBody(code, message));
    socket.write(
      `HTTP/1.1 ${code} ${STATUS_CODES[code]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

function connectionErrorOf(error: ConnectionError): [400 | 408 | 431, string] {
  if (error.code === 'HPE_HEADER_OVERFLOW') return [431, 'Request headers are too large'];
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') return [408, 'The request was not received in time'];
  const reason = (error as { reason?: unknown }).reason;
  return [400, typeof reason === 'string' ? `Malformed HTTP request: ${reason}` : 'Malformed HTTP request'];
}

/** The whole-request code and message of an error that escaped a route. */
export function classify(error: FastifyError): [RequestErrorCode, string] {
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return [415, 'Content-Type must be application/json'];
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return [413, 'Request body is too large'];
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return [400, 'Request body is empty'];
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return [400, 'Request body is not valid JSON'];
    case 'FST_ERR_BAD_URL':
      return [400, `Malformed URL: ${error.message}`];
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return [400, `A path parameter is longer than ${MAX_PARAM_LENGTH} characters`];
  }
  if (error.validation) return [400, validationMessage(error.validation, error.validationContext ?? 'request')];
  if (error instanceof SyntaxError || error.statusCode === 400) {
    return [400, 'Request body is not valid JSON'];
  }
  const status = error.statusCode ?? 500;
  if (status === 413) return [413, 'Request body is too large'];
  if (status === 415) return [415, 'Content-Type must be application/json'];
  if (status >= 400 && status < 500) return [400, error.message];
  return [500, 'Internal error'];
}

/**
 * Ajv's first error, named by its path and said so that the client knows what to send: a value
 * outside an enum or a union of literals lists the allowed values (Ajv reports each literal of
 * the union as a failed `const`, then the `anyOf`), a missing property is named in the path.
 */
function validationMessage(errors: FastifySchemaValidationError[], context: string): string {
  const first = errors[0];
  if (!first) return `Invalid ${context}`;
  const where = `${context}${first.instancePath.replaceAll('/', '.')}`;
  if (first.keyword === 'required' && typeof first.params.missingProperty === 'string') {
    return `Invalid ${where}.${first.params.missingProperty}: is required`;
  }
  const allowed = allowedValuesOf(first, errors);
  return `Invalid ${where}: ${allowed ? `must be one of ${allowed.join(', ')}` : first.message}`;
}

function allowedValuesOf(first: FastifySchemaValidationError, errors: FastifySchemaValidationError[]) {
  if (first.keyword === 'enum' && Array.isArray(first.params.allowedValues)) return first.params.allowedValues;
  if (first.keyword !== 'const') return undefined;
  const union = errors.find(
    (e) =>
      e.keyword === 'anyOf' && e.instancePath === first.instancePath && first.schemaPath.startsWith(`${e.schemaPath}/`),
  );
  if (!union) return undefined;
  const branches = errors.filter((e) => e !== union && e.schemaPath.startsWith(`${union.schemaPath}/`));
  return branches.every((e) => e.keyword === 'const') ? branches.map((e) => e.params.allowedValue) : undefined;
}

/**
 * Which methods each route path answers, to tell a wrong method (405) from an unknown path (404).
 * Fastify's router matches only one method at a time, so the templates are matched here:
 * `:param` matches one segment, `*` the rest, a trailing slash is ignored as the router does.
 */
class RouteMethods {
  private readonly routes = new Map<string, { pattern: RegExp; methods: Set<string> }>();

  add(url: string, method: string | string[]): void {
    let route = this.routes.get(url);
    if (!route) {
      route = { pattern: patternOf(url), methods: new Set() };
      this.routes.set(url, route);
    }
    for (const m of [method].flat()) route.methods.add(m);
  }

  allowedOn(path: string): string[] {
    const allowed = new Set<string>();
    for (const { pattern, methods } of this.routes.values()) {
      if (pattern.test(path)) for (const m of methods) allowed.add(m);
    }
    return [...allowed].sort();
  }
}

function patternOf(url: string): RegExp {
  const segments = url.replace(/\/+$/, '').split('/');
  const source = segments
    .map((segment) => {
      if (segment === '*') return '.*';
      if (segment.includes(':')) return '[^/]+';
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return new RegExp(`^${source}/?$`);
}
