import { Type, type Static, type TSchema } from 'typebox';
import type { AnswerRecording, BatchEntry, BatchItem, BatchOutcome } from '../../domain/batch/batch-runner.js';
import type { Caller } from '../../domain/caller.js';
import { noTelemetry, type BatchEndpoint, type Telemetry } from '../../domain/telemetry.js';
import type { IdempotencyUseCases } from '../../domain/use-cases.js';
import type { App } from '../app-instance.js';
import { requireAccess } from '../auth.js';
import { idempotency } from '../idempotency.js';
import { envelopeOnlyValidator, requireJson } from '../json-request.js';
import {
  CustomerEchoSchema,
  CustomerIdentifiersSchema,
  IdempotencyHeadersSchema,
  V2_SECURITY,
  WarningSchema,
} from '../schemas/common.js';
import { entryCodes } from './answers.js';
import type { SentItem } from './fields.js';
import { batchItems } from './items.js';

export interface BatchRoute<E extends BatchEntry, R extends TSchema> {
  path: string;
  /** Its `endpoint` label in the metrics. */
  endpoint: BatchEndpoint;
  /** The OpenAPI operationId: Capillary's own name of the endpoint. */
  operationId: string;
  /** The body's batch array: linkCustomers, customersPartnerUpdates, deLinkCustomers. */
  itemsField: string;
  /** Registered components: their `$id` names them in the OpenAPI document. */
  request: TSchema;
  response: R;
  summary: string;
  description: string;
  /** Reads one item of the batch array; never throws, so one bad item fails alone (SPEC §3a). */
  read(raw: unknown): SentItem<E>;
  /** The use case, bound to its dependencies; with `recording`, it stores the key's answer with the change. */
  run(caller: Caller, items: ReadonlyArray<BatchItem<E>>, recording?: AnswerRecording<E>): Promise<BatchOutcome<E>>;
  /** The answer's body, in the endpoint's wire names; `sent` are the items `read` gave, in order. */
  answer(outcome: BatchOutcome<E>, sent: ReadonlyArray<SentItem<E>>): Static<R>;
}

const COMMON_DESCRIPTION =
  'Every customer and program entry gets its own status; entries run as if one after another in request order. HTTP 200 when every entry succeeded, 201 when some failed, 400 when all failed, 500 when the service failed (2001). An Idempotency-Key replays the first answer for 24 hours.';

/**
 * One v2 batch endpoint (link, update, delink): the DEFAULT access group, JSON only, the
 * envelope checked here and each item by the use case, idempotent retries, and one set of
 * documented answers.
 */
export function batchRoute<E extends BatchEntry, R extends TSchema>(
  app: App,
  keys: IdempotencyUseCases,
  route: BatchRoute<E, R>,
  telemetry: Telemetry = noTelemetry,
): void {
  const idempotent = idempotency(keys);
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
      const raw = batchItems(request, reply, route.itemsField);
      if (!raw) return reply;
      const items = raw.map(route.read);
      // With an Idempotency-Key, the answer is rendered inside the batch's transaction and stored
      // by it; the same bytes then go out.
      const claim = idempotent.claimOf(request);
      let rendered: string | undefined;
      const recording: AnswerRecording<E> | undefined = claim && {
        claim,
        render: (decided) => {
          const statusCode = batchHttpStatus(decided);
          const body = String(reply.code(statusCode).serialize(route.answer(decided, items)));
          rendered = body;
          return { statusCode, body };
        },
      };
      const outcome = await route.run(request.caller!, items, recording);
      for (const [code, count] of entryCodes(outcome)) telemetry.entries(route.endpoint, code, count);
      // An answer that changed nothing and asks for a retry (2001, 2010) must not be replayed.
      idempotent.remember(request, outcome.rolledBack ? 'release' : outcome.answerStored ? 'stored' : 'store');
      if (outcome.fault) request.log.error({ err: outcome.fault, path: route.path }, 'batch failed');
      reply.code(batchHttpStatus(outcome));
      if (outcome.answerStored && rendered !== undefined) {
        return reply.type('application/json; charset=utf-8').send(rendered);
      }
      return reply.send(route.answer(outcome, items));
    },
  );
}

function idOf(schema: TSchema): string {
  const id = (schema as { $id?: unknown }).$id;
  if (typeof id !== 'string') throw new Error('A batch route schema needs an $id');
  return id;
}

/**
 * SPEC §3a: 200 when every entry succeeded, 201 when some failed, 400 when all failed; 500 when
 * the service failed (2001, nothing written). A customer with no entry counts as one failure.
 */
function batchHttpStatus(outcome: BatchOutcome<BatchEntry>): 200 | 201 | 400 | 500 {
  if (outcome.rolledBack) return outcome.rolledBack === 'INTERNAL_ERROR' ? 500 : 400;
  const succeeded = outcome.items.flatMap((item) =>
    item.entries.length > 0 ? item.entries.map(({ outcome }) => outcome === 'SUCCESS') : [false],
  );
  const successes = succeeded.filter(Boolean).length;
  if (successes === succeeded.length) return 200;
  return successes === 0 ? 400 : 201;
}
