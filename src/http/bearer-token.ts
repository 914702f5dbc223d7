import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from './envelope.js';

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/**
 * onRequest hook: `token` as a Bearer token, else 401 in the envelope with `message`. Both sides
 * are hashed first so the constant-time comparison always sees equal lengths and the token's
 * length never leaks.
 */
export function requireBearerToken(token: string, { realm, message }: { realm: string; message: string }) {
  const expected = digest(token);
  return async function authorizeBearer(request: FastifyRequest, reply: FastifyReply) {
    const presented = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1];
    if (presented !== undefined && timingSafeEqual(digest(presented), expected)) return;
    void reply.header('WWW-Authenticate', `Bearer realm="${realm}"`);
    return sendError(reply, 401, message);
  };
}
