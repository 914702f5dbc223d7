import type { App } from '../app-instance.js';
import { Type } from 'typebox';
import type { DB } from '../../db/database.js';
import type { Clock } from '../../domain/clock.js';
import { delinkCustomers } from '../../domain/delink/delink.service.js';
import { requireAccess } from '../auth.js';
import { batchItems, envelopeOnlyValidator, requireJson } from '../batch.js';
import { idempotency } from '../idempotency.js';
import { CustomerEchoSchema, CustomerIdentifiersSchema, IdempotencyHeadersSchema, V2_SECURITY, WarningSchema } from '../schemas/common.js';
import { DelinkRequestSchema, DelinkResponseSchema } from '../schemas/delink.schema.js';

export function delinkRoutes(app: App, deps: { db: DB; clock: Clock; lockTimeoutMs: number }): void {
  const idempotent = idempotency(deps);
  // The shared components may already be registered by another batch route; adding one twice throws.
  const shared = { CustomerIdentifiers: CustomerIdentifiersSchema, CustomerEcho: CustomerEchoSchema, BatchWarning: WarningSchema };
  for (const [id, schema] of Object.entries(shared)) if (!app.getSchema(id)) app.addSchema(schema);
  app.addSchema(DelinkRequestSchema);
  app.addSchema(DelinkResponseSchema);

  app.post(
    '/v2/partnerProgram/deLinkCustomer',
    {
      onRequest: requireAccess('DEFAULT'),
      preValidation: requireJson,
      preHandler: idempotent.preHandler,
      onSend: idempotent.onSend,
      validatorCompiler: envelopeOnlyValidator,
      schema: {
        tags: ['partner programs'],
        summary: 'Delink customers from partner programs',
        description:
          'Up to 50 customers, each with any number of programs. Ends the membership (state DELINKED) and cancels a pending relink; an expired SUPPLEMENTARY membership with a pending relink can be delinked. Every customer and program entry gets its own status; entries run as if one after another in request order. HTTP 200 when every entry succeeded, 201 when some failed, 400 when all failed, 500 when the service failed (2001).',
        security: V2_SECURITY,
        headers: IdempotencyHeadersSchema,
        body: Type.Ref('DelinkRequest'),
        response: {
          200: Type.Ref('DelinkResponse'),
          201: Type.Ref('DelinkResponse'),
          400: Type.Union([Type.Ref('DelinkResponse'), Type.Ref('ErrorEnvelope')]),
          401: Type.Ref('ErrorEnvelope'),
          403: Type.Ref('ErrorEnvelope'),
          409: Type.Ref('ErrorEnvelope'),
          413: Type.Ref('ErrorEnvelope'),
          415: Type.Ref('ErrorEnvelope'),
          422: Type.Ref('ErrorEnvelope'),
          429: Type.Ref('ErrorEnvelope'),
          500: Type.Union([Type.Ref('DelinkResponse'), Type.Ref('ErrorEnvelope')]),
        },
      },
    },
    async (request, reply) => {
      const items = batchItems(request, reply, 'deLinkCustomers');
      if (!items) return reply;
      const result = await delinkCustomers(deps, request.caller!, items);
      idempotent.remember(request, !result.rolledBack);
      if (result.fault) request.log.error({ err: result.fault }, 'delink batch failed');
      return reply.code(result.httpStatus).send(result.body);
    },
  );
}
