import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from './envelope.js';

export function hasJsonContentType(request: FastifyRequest): boolean {
  const type = request.headers['content-type'];
  return type !== undefined && /^application\/json\s*(;|$)/i.test(type);
}

/** Batch endpoints take JSON only; a POST without a JSON content type is 415 even with no body. */
export async function requireJson(request: FastifyRequest, reply: FastifyReply) {
  if (!hasJsonContentType(request)) return sendError(reply, 415, 'Content-Type must be application/json');
}

/** Route-level validator: the body schema documents the entries, but only the envelope is enforced here. */
export const envelopeOnlyValidator = () => () => true;
