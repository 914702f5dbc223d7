import type { FastifyError } from 'fastify';
import type { App } from './app-instance.js';
import { errorBody, httpStatusOf, type RequestErrorCode } from './envelope.js';

/**
 * Every failure that escapes a route becomes the JSON envelope of SPEC §3a: client mistakes
 * keep their 4xx status, and only a fault of the service itself answers 500.
 */
export function registerErrorHandling(app: App): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const [code, message] = classify(error);
    if (code === 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code, reason: error.message }, 'request rejected');
    void reply.code(httpStatusOf(code)).send(errorBody(code, message));
  });

  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send(errorBody(404, `No route for ${request.method} ${request.url.split('?')[0]}`));
  });
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
  }
  if (error.validation) {
    const first = error.validation[0];
    const where = `${error.validationContext ?? 'request'}${first?.instancePath ? first.instancePath.replaceAll('/', '.') : ''}`;
    return [400, `Invalid ${where}: ${first?.message ?? error.message}`];
  }
  if (error instanceof SyntaxError || error.statusCode === 400) {
    return [400, 'Request body is not valid JSON'];
  }
  const status = error.statusCode ?? 500;
  if (status === 413) return [413, 'Request body is too large'];
  if (status === 415) return [415, 'Content-Type must be application/json'];
  if (status >= 400 && status < 500) return [400, error.message];
  return [500, 'Internal error'];
}
