import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from '../envelope.js';

export const MAX_BATCH_CUSTOMERS = 50;

/**
 * Fastify checks only the envelope of a batch; each item is checked on its own by the use case
 * so that one bad item cannot fail its neighbours (SPEC §3a). Returns the items, or undefined
 * after answering the whole-request error.
 */
export function batchItems(request: FastifyRequest, reply: FastifyReply, field: string): unknown[] | undefined {
  const body = request.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    sendError(reply, 400, 'Request body must be a JSON object');
    return undefined;
  }
  const items = (body as Record<string, unknown>)[field];
  if (items === undefined || items === null || (Array.isArray(items) && items.length === 0)) {
    sendError(reply, 2002, `Required field is empty or null: ${field}`);
    return undefined;
  }
  if (!Array.isArray(items)) {
    sendError(reply, 400, `${field} must be an array`);
    return undefined;
  }
  if (items.length > MAX_BATCH_CUSTOMERS) {
    sendError(reply, 2008, `Batch limit exceeded: at most ${MAX_BATCH_CUSTOMERS} customers per request`);
    return undefined;
  }
  return items;
}
