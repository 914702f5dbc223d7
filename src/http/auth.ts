import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App } from './app-instance.js';
import type { DB } from '../db/database.js';
import { findTillCredential } from '../db/repositories/credentials.repository.js';
import type { AccessGroup, Caller } from '../domain/caller.js';
import { fingerprint, verifySecret } from '../domain/credentials.js';
import { sendError } from './envelope.js';

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller | null;
  }
}

/**
 * scrypt costs tens of milliseconds by design, too much to pay on every request. A successful
 * verification is remembered by a fingerprint of (username, stored hash, presented secret), so a
 * changed password or a different secret always goes through scrypt again.
 */
const VERIFIED_CACHE_LIMIT = 10_000;

export function registerAuthentication(app: App, db: DB): void {
  const verified = new Set<string>();
  app.decorateRequest('caller', null);

  app.decorate('authenticate', async (request: FastifyRequest): Promise<Caller | null> => {
    const basic = parseBasic(request.headers.authorization);
    if (!basic) return null;
    const till = await findTillCredential(db, basic.username);
    if (!till) return null;
    const key = fingerprint(basic.username, till.passwordHash, basic.secret);
    if (!verified.has(key)) {
      if (!(await verifySecret(basic.secret, till.passwordHash))) return null;
      if (verified.size >= VERIFIED_CACHE_LIMIT) verified.clear();
      verified.add(key);
    }
    return {
      org: { id: till.orgId, timezone: till.orgTimezone, configs: till.orgConfigs },
      accessGroups: till.accessGroups,
      credential: { kind: 'till', id: till.tillId, name: till.username },
    };
  });
}

declare module 'fastify' {
  interface FastifyInstance {
    authenticate(request: FastifyRequest): Promise<Caller | null>;
  }
}

function parseBasic(header: string | undefined): { username: string; secret: string } | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header ?? '');
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  return { username: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}

/** preHandler: a known caller holding `group`, else 401 / 403 with the JSON envelope. */
export function requireAccess(group: AccessGroup) {
  return async function authorize(request: FastifyRequest, reply: FastifyReply) {
    const caller = await request.server.authenticate(request);
    if (!caller) {
      void reply.header('WWW-Authenticate', 'Basic realm="partner-programs"');
      return sendError(reply, 401, 'Authentication failed: send valid till credentials');
    }
    if (!caller.accessGroups.includes(group)) {
      return sendError(reply, 403, `Access denied: this API needs the ${group} access group`);
    }
    request.caller = caller;
  };
}
