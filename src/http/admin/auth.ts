import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from '../envelope.js';

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/**
 * onRequest hook: the ADMIN_TOKEN as a Bearer token, else 401. Both sides are hashed first so
 * the constant-time comparison always sees equal lengths and the token's length never leaks.
 */
export function requireAdminToken(token: string) {
  const expected = digest(token);
  return async function authorizeAdmin(request: FastifyRequest, reply: FastifyReply) {
    const presented = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1];
    if (presented !== undefined && timingSafeEqual(digest(presented), expected)) return;
    void reply.header('WWW-Authenticate', 'Bearer realm="admin"');
    return sendError(reply, 401, 'Authentication failed: send the admin token as "Authorization: Bearer <token>"');
  };
}
