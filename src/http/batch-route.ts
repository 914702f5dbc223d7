import { Type, type TSchema } from 'typebox';
import type { DB } from '../db/database.js';
import type { Caller } from '../domain/caller.js';
import type { Clock } from '../domain/clock.js';
import type { App } from './app-instance.js';
import { requireAccess } from './auth.js';
import { batchItems, envelopeOnlyValidator, requireJson } from './batch.js';
import { idempotency } from './idempotency.js';
import {
  CustomerEchoSchema,
  CustomerIdentifiersSchema,
  IdempotencyHeadersSchema,
  V2_SECURITY,
  WarningSchema,
} from './schemas/common.js';

export interface BatchRouteDependencies {
  db: DB;
  clock: Clock;
  lockTimeoutMs: number;
}

export interface BatchRoute {
  path: string;
  /** The OpenAPI operationId: Capillary's own name of the endpoint. */
  operationId: string;
  /** The body's batch array: linkCustomers, customersPartnerUpdates, deLinkCustomers. */
  itemsField: string;
  /** Registered components: their `$id` names them in the OpenAPI document. */
  request: TSchema;
  response: TSchema;
  summary: string;
  description: string;
  run(deps: BatchRouteDependencies, caller: Caller, items: readonly unknown[]): Promise<BatchRouteResult>;
}

export interface BatchRouteResult {
  httpStatus: 200 | 201 | 400 | 500;
  body: unknown;
  /** Nothing was written (2001, 2010): the answer must not be replayed to a retry. */
  rolledBack?: boolean;
  fault?: unknown;
}

const COMMON_DESCRIPTION =
  'Every customer and program entry gets its own status; entries run as if one after another in request order. HTTP 200 when every entry succeeded, 201 when some failed, 400 when all failed, 500 when the service failed (2001). An Idempotency-Key replays the first answer for 24 hours.';

/**
 * One v2 batch endpoint (link, update, delink): the DEFAULT access group, JSON only, the
 * envelope checked here and each item by the use case, idempotent retries, and one set of
 * documented answers.
 */
export function batchRoute(app: App, deps: BatchRouteDependencies, route: BatchRoute): void {
  const idempotent = idempotency(deps);
  for (const schema of [CustomerIdentifiersSchema, CustomerEchoSchema, WarningSchema, route.request, route.response]) {
    if (!app.getSchema(idOf(schema))) app.addSchema(schema);
  }
  const answer = Type.Ref(idOf(route.response));
  const envelope = Type.Ref('ErrorEnvelope');
  app.post(
    route.path,
    {
      onRequest: requireAccess('DEFAULT'),
      preValidation: requireJson,
      preHandler: idempotent.preHandler,
      onSend: idempotent.onSend,
      validatorCompiler: envelopeOnlyValidator,
      schema: {
        operationId: route.operationId,
        tags: ['partner programs'],
        summary: route.summary,
        description: `${route.description} ${COMMON_DESCRIPTION}`,
        security: V2_SECURITY,
        headers: IdempotencyHeadersSchema,
        body: Type.Ref(idOf(route.request)),
        response: {
          200: answer,
          201: answer,
          400: Type.Union([answer, envelope]),
          401: envelope,
          403: envelope,
          409: envelope,
          413: envelope,
          415: envelope,
          422: envelope,
          429: envelope,
          500: Type.Union([answer, envelope]),
        },
      },
    },
    async (request, reply) => {
      const items = batchItems(request, reply, route.itemsField);
      if (!items) return reply;
      const result = await route.run(deps, request.caller!, items);
      idempotent.remember(request, !result.rolledBack);
      if (result.fault) request.log.error({ err: result.fault, path: route.path }, 'batch failed');
      return reply.code(result.httpStatus).send(result.body);
    },
  );
}

function idOf(schema: TSchema): string {
  const id = (schema as { $id?: unknown }).$id;
  if (typeof id !== 'string') throw new Error('A batch route schema needs an $id');
  return id;
}
