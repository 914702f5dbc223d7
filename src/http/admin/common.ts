import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type {
  FastifyBaseLogger,
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { TSchema } from 'typebox';
import type { AdminFailure, AdminResult } from '../../domain/configuration/outcome.js';
import type { ConfigurationUseCases } from '../../domain/use-cases.js';
import { isStorableText } from '../../model/text.js';
import { problemsOf } from './problems.js';

export type AdminApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** The configuration use cases, bound to the database and the clock. */
export type AdminDependencies = ConfigurationUseCases;

const statusOf = { invalid: 400, not_found: 404, conflict: 409 } as const;

/** The JSON error envelope, one error per problem, so a client sees every named field at once. */
export function sendProblems(reply: FastifyReply, status: 400 | 403 | 404 | 409, problems: string[]): FastifyReply {
  return reply.code(status).send({
    errors: problems.map((message) => ({ status: false, code: status, message })),
    warnings: [],
  });
}

export function sendFailure(reply: FastifyReply, failure: AdminFailure): FastifyReply {
  return sendProblems(reply, statusOf[failure.kind], failure.problems);
}

/** Sends the value of a use case, or its failure as the error envelope. */
export function answer<T>(reply: FastifyReply, result: AdminResult<T>): T | FastifyReply {
  return result.ok ? result.value : sendFailure(reply, result.failure);
}

export function notFound(reply: FastifyReply, what: string): FastifyReply {
  return sendProblems(reply, 404, [`No ${what}`]);
}

/**
 * Routes attach Ajv's verdict instead of failing on it (see index.ts), and this preHandler
 * re-checks the part with TypeBox to name every problem by its path (`customers[2].email: …`),
 * in the same words the config file's errors use; a key that an object's patterns do not admit
 * is named with its rule (KEY_RULES).
 */
export async function rejectInvalidRequest(
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply | undefined> {
  const error = request.validationError as (Error & { validationContext?: string }) | undefined;
  if (!error) {
    const unstorable = [...unstorablePaths(request.params, '', []), ...unstorablePaths(request.body, '', [])];
    if (unstorable.length === 0) return undefined;
    return sendProblems(
      reply,
      400,
      unstorable.map((path) => `${path}: must not contain the NUL character (U+0000) or a lone UTF-16 surrogate`),
    );
  }
  const context = error.validationContext ?? 'body';
  const parts: Record<string, unknown> = { body: request.body, params: request.params, querystring: request.query };
  const schema = (request.routeOptions.schema as Record<string, unknown> | undefined)?.[context] as TSchema | undefined;
  const problems = schema ? problemsOf(schema, parts[context], context) : [];
  return sendProblems(reply, 400, problems.length > 0 ? problems : [`${context}: ${error.message}`]);
}

/** Text PostgreSQL (text, jsonb) cannot hold is the client's mistake, not a 500. */
function unstorablePaths(value: unknown, path: string, found: string[]): string[] {
  if (typeof value === 'string') {
    if (!isStorableText(value)) found.push(path || '(root)');
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => unstorablePaths(item, `${path}[${i}]`, found));
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      const at = path ? `${path}.${key}` : key;
      if (!isStorableText(key)) found.push(at);
      else unstorablePaths(item, at, found);
    }
  }
  return found;
}
