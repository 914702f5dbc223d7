import type { App } from '../app-instance.js';
import { Type } from 'typebox';
import type { DB } from '../../db/database.js';
import type { Clock } from '../../domain/clock.js';
import { linkCustomers } from '../../domain/link/link.service.js';
import { requireAccess } from '../auth.js';
import { batchItems, envelopeOnlyValidator, requireJson } from '../batch.js';
import { idempotency } from '../idempotency.js';
import { CustomerEchoSchema, CustomerIdentifiersSchema, IdempotencyHeadersSchema, V2_SECURITY, WarningSchema } from '../schemas/common.js';
import { LinkRequestSchema, LinkResponseSchema } from '../schemas/link.schema.js';

export function linkRoutes(app: App, deps: { db: DB; clock: Clock; lockTimeoutMs: number }): void {
  const idempotent = idempotency(deps);
  app.addSchema(CustomerIdentifiersSchema);
  app.addSchema(CustomerEchoSchema);
  app.addSchema(WarningSchema);
  app.addSchema(LinkRequestSchema);
  app.addSchema(LinkResponseSchema);

  app.post(
    '/v2/partnerProgram/linkCustomer',
    {
      onRequest: requireAccess('DEFAULT'),
      preValidation: requireJson,
      preHandler: idempotent.preHandler,
      onSend: idempotent.onSend,
      validatorCompiler: envelopeOnlyValidator,
      schema: {
        tags: ['partner programs'],
        summary: 'Link customers to partner programs, or schedule a relink',
        description:
          'Up to 50 customers, each with any number of programs. Every customer and program entry gets its own status; entries run as if one after another in request order. HTTP 200 when every entry succeeded, 201 when some failed, 400 when all failed, 500 when the service failed (2001).',
        security: V2_SECURITY,
        headers: IdempotencyHeadersSchema,
        body: Type.Ref('LinkRequest'),
        response: {
          200: Type.Ref('LinkResponse'),
          201: Type.Ref('LinkResponse'),
          400: Type.Union([Type.Ref('LinkResponse'), Type.Ref('ErrorEnvelope')]),
          401: Type.Ref('ErrorEnvelope'),
          403: Type.Ref('ErrorEnvelope'),
          409: Type.Ref('ErrorEnvelope'),
          413: Type.Ref('ErrorEnvelope'),
          415: Type.Ref('ErrorEnvelope'),
          422: Type.Ref('ErrorEnvelope'),
          429: Type.Ref('ErrorEnvelope'),
          500: Type.Union([Type.Ref('LinkResponse'), Type.Ref('ErrorEnvelope')]),
        },
      },
    },
    async (request, reply) => {
      const items = batchItems(request, reply, 'linkCustomers');
      if (!items) return reply;
      const result = await linkCustomers(deps, request.caller!, items);
      idempotent.remember(request, !result.rolledBack);
      if (result.fault) request.log.error({ err: result.fault }, 'link batch failed');
      return reply.code(result.httpStatus).send(result.body);
    },
  );
}
