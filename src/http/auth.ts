import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App } from './app-instance.js';
import type { AccessGroup, Caller } from '../domain/caller.js';
import type { AuthFailure, AuthResult, Authenticator } from '../domain/authentication.js';
import { sendError } from './envelope.js';

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller | null;
  }
  interface FastifyInstance {
    /** Who sent the request: Basic till credentials, or an OAuth token in either header. */
    authenticate(request: FastifyRequest): Promise<AuthResult>;
  }
}

const OAUTH_TOKEN_HEADER = 'x-cap-api-oauth-token';

/**
 * One entry point for both schemes. A request carrying `X-CAP-API-OAUTH-TOKEN` is judged by
 * that token alone (Capillary's header); otherwise the Authorization header, Bearer or Basic.
 */
export function registerAuthentication(app: App, authenticator: Authenticator): void {
  app.decorateRequest('caller', null);
  app.decorate('authenticate', async (request: FastifyRequest): Promise<AuthResult> => {
    const headerToken = request.headers[OAUTH_TOKEN_HEADER];
    if (typeof headerToken === 'string' && headerToken.trim() !== '') return authenticator.token(headerToken.trim());
    const authorization = request.headers.authorization ?? '';
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
    if (bearer !== undefined) return authenticator.token(bearer);
    const basic = parseBasic(authorization);
    if (basic) return authenticator.basic(basic.username, basic.secret);
    return {
      ok: false,
      failure: {
        kind: 'unauthenticated',
        scheme: 'Basic',
        message: 'Authentication failed: send till credentials (Basic) or an OAuth token',
      },
    };
  });
}

function parseBasic(header: string): { username: string; secret: string } | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header);
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  return { username: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}

/** 401 with a challenge for the scheme that failed, or 429 with Retry-After; the JSON envelope either way. */
function sendAuthFailure(reply: FastifyReply, failure: AuthFailure): FastifyReply {
  if (failure.kind === 'throttled') {
    void reply.header('Retry-After', String(failure.retryAfterSeconds));
    return sendError(reply, 429, throttledMessage(failure.retryAfterSeconds));
  }
  const challenge =
    failure.scheme === 'Basic'
      ? 'Basic realm="partner-programs"'
      : 'Bearer realm="partner-programs", error="invalid_token"';
  void reply.header('WWW-Authenticate', challenge);
  return sendError(reply, 401, failure.message);
}

export function throttledMessage(seconds: number): string {
  return `Too many failed attempts with these credentials; retry in ${seconds} seconds`;
}

/** onRequest hook of every v2 route: a known caller holding `group`, else 401 / 403 / 429 with the JSON envelope. */
export function requireAccess(group: AccessGroup) {
  return async function authorize(request: FastifyRequest, reply: FastifyReply) {
    const result = await request.server.authenticate(request);
    if (!result.ok) return sendAuthFailure(reply, result.failure);
    if (!result.caller.accessGroups.includes(group)) {
      return sendError(reply, 403, `Access denied: this API needs the ${group} access group`);
    }
    request.caller = { ...result.caller, requestId: request.id };
  };
}
