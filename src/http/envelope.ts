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
 * Whole-request error codes of SPEC §3a. The first three answer HTTP 400; the others answer
 * their own code as the HTTP status.
 */
export type RequestErrorCode = 400 | 2002 | 2008 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 429 | 500 | 503;

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
