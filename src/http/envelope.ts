import { Type, type Static } from 'typebox';
import type { FastifyReply } from 'fastify';

/** `{status, code, message}`: the status object of every entry, error and warning. */
export const StatusSchema = Type.Object(
  {
    status: Type.Boolean(),
    code: Type.Integer(),
    message: Type.String(),
  },
  { $id: 'Status' },
);
export type Status = Static<typeof StatusSchema>;

export const ErrorEnvelopeSchema = Type.Object(
  {
    errors: Type.Array(StatusSchema),
    warnings: Type.Array(Type.Unknown()),
  },
  { $id: 'ErrorEnvelope', description: 'A whole-request error: nothing of the request was processed.' },
);

/**
 * Whole-request error codes of SPEC §3a, plus those of HTTP itself (405 a method the path does
 * not serve, 408 a request not received in time, 431 headers too large). The first three answer
 * HTTP 400; the others answer their own code as the HTTP status.
 */
export type RequestErrorCode =
  400 | 2002 | 2008 | 401 | 403 | 404 | 405 | 408 | 409 | 413 | 415 | 422 | 429 | 431 | 500 | 503;

/** An error answer of an operation in the OpenAPI document: the envelope, and when it is given. */
export function errorAnswer(when: string) {
  return Type.Ref('ErrorEnvelope', { description: when });
}

export function httpStatusOf(code: RequestErrorCode): number {
  return code === 2002 || code === 2008 ? 400 : code;
}

export function errorBody(code: RequestErrorCode, message: string) {
  return { errors: [{ status: false, code, message }], warnings: [] as unknown[] };
}

export function sendError(reply: FastifyReply, code: RequestErrorCode, message: string): FastifyReply {
  return reply.code(httpStatusOf(code)).send(errorBody(code, message));
}

/** An error answer whose code is not an HTTP status (e.g. 1011 customer not found → HTTP 404). */
export function sendCodedError(reply: FastifyReply, httpStatus: number, code: number, message: string): FastifyReply {
  return reply.code(httpStatus).send({ errors: [{ status: false, code, message }], warnings: [] });
}
