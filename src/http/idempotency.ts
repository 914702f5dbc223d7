import type { FastifyReply, FastifyRequest } from 'fastify';
import { idempotencyScope, requestHash } from '../domain/idempotency.js';
import type { IdempotencyUseCases } from '../domain/use-cases.js';
import type { IdempotencyClaim, IdempotencyScope } from '../model/idempotency.js';
import { sendError } from './envelope.js';

const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
const VALID_KEY = /^[\x21-\x7e]{1,255}$/;

/**
 * What becomes of a claimed key when the answer leaves: `store` it (a final answer), leave it
 * as the use case `stored` it (with the change itself), or `release` the key (nothing changed
 * and the client should retry: a retry must run again).
 */
export type KeyFate = 'store' | 'stored' | 'release';

interface Held {
  scope: IdempotencyScope;
  token: string;
  /** Set by the handler; unset, the key is let go when the answer leaves. */
  fate: KeyFate;
}

export interface Idempotency {
  /** preHandler: claims the key, or answers with the stored first answer, 422, 409 or 400. */
  preHandler(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined>;
  /** onSend: stores the answer of a claimed key that the handler called final, else lets the key go. */
  onSend(request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown>;
  /** The request's claim, when it holds one: for a use case that stores the answer with its change. */
  claimOf(request: FastifyRequest): IdempotencyClaim | undefined;
  /** Called by the handler once its use case has answered: what becomes of the key (KeyFate). */
  remember(request: FastifyRequest, fate: KeyFate): void;
}

/**
 * `Idempotency-Key` (SPEC §11) for a POST route whose caller is known (after requireAccess):
 * whole-request errors (400, 2002, 2008) are not stored, 401/403/413/415 never reach it.
 */
export function idempotency(keys: IdempotencyUseCases): Idempotency {
  const held = new WeakMap<FastifyRequest, Held>();
  return {
    async preHandler(request, reply) {
      const header = request.headers[IDEMPOTENCY_KEY_HEADER];
      if (header === undefined || header === '') return undefined;
      if (typeof header !== 'string' || !VALID_KEY.test(header)) {
        return sendError(reply, 400, 'Idempotency-Key must be 1 to 255 visible ASCII characters');
      }
      const scope = idempotencyScope(request.caller!, header);
      const claim = await keys.claim(scope, requestHash(request.routeOptions.url ?? request.url, request.body));
      switch (claim.kind) {
        case 'execute':
          held.set(request, { scope, token: claim.token, fate: 'release' });
          return undefined;
        case 'replay':
          return reply
            .code(claim.statusCode)
            .header('content-type', 'application/json; charset=utf-8')
            .header('Idempotent-Replayed', 'true')
            .send(claim.body);
        case 'mismatch':
          return sendError(reply, 422, 'This Idempotency-Key was already used with a different request');
        case 'in_progress':
          return sendError(reply, 409, 'A request with this Idempotency-Key is in progress; retry later');
      }
    },

    async onSend(request, reply, payload) {
      const claim = held.get(request);
      if (!claim) return payload;
      held.delete(request);
      if (claim.fate === 'stored') return payload;
      try {
        if (claim.fate === 'store' && typeof payload === 'string') {
          await keys.record(claim.scope, claim.token, reply.statusCode, payload);
        } else {
          await keys.release(claim.scope, claim.token);
        }
      } catch (error) {
        // The answer itself is right and goes out; only its replay is lost. The claim stays until
        // it counts as abandoned, after which a retry runs the request again.
        request.log.error({ err: error }, 'could not record the Idempotency-Key answer');
      }
      return payload;
    },

    claimOf(request) {
      const claim = held.get(request);
      return claim && { scope: claim.scope, token: claim.token };
    },

    remember(request, fate) {
      const claim = held.get(request);
      if (claim) claim.fate = fate;
    },
  };
}
