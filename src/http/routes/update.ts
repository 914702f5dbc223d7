import type { App } from '../app-instance.js';
import { Type } from 'typebox';
import type { DB } from '../../db/database.js';
import type { Clock } from '../../domain/clock.js';
import { updateCustomers } from '../../domain/update/update.service.js';
import { requireAccess } from '../auth.js';
import { batchItems, envelopeOnlyValidator, requireJson } from '../batch.js';
import { idempotency } from '../idempotency.js';
import { CustomerEchoSchema, CustomerIdentifiersSchema, IdempotencyHeadersSchema, V2_SECURITY, WarningSchema } from '../schemas/common.js';
import { UpdateRequestSchema, UpdateResponseSchema } from '../schemas/update.schema.js';

export function updateRoutes(app: App, deps: { db: DB; clock: Clock; lockTimeoutMs: number }): void {
  const idempotent = idempotency(deps);
  // The shared components may already be registered by another batch route; adding one twice throws.
  const shared = { CustomerIdentifiers: CustomerIdentifiersSchema, CustomerEcho: CustomerEchoSchema, BatchWarning: WarningSchema };
  for (const [id, schema] of Object.entries(shared)) if (!app.getSchema(id)) app.addSchema(schema);
  app.addSchema(UpdateRequestSchema);
  app.addSchema(UpdateResponseSchema);

  app.post(
    '/v2/partnerProgram/customerPartnerProgramUpdate',
    {
      onRequest: requireAccess('DEFAULT'),
      preValidation: requireJson,
      preHandler: idempotent.preHandler,
      onSend: idempotent.onSend,
      validatorCompiler: envelopeOnlyValidator,
      schema: {
        tags: ['partner programs'],
        summary: "Upgrade, downgrade, renew or update a linked customer's partner tier, or cancel a pending relink",
        description:
          'Up to 50 customers, each with any number of program updates. updateType is one of UPGRADE, DOWNGRADE, RENEW, UPDATE (tier-based programs only) or MEMBERSHIP_RELINKING_CANCELLED (a pending SUPPLEMENTARY relink). Every customer and program entry gets its own status; entries run as if one after another in request order. HTTP 200 when every entry succeeded, 201 when some failed, 400 when all failed, 500 when the service failed (2001).',
        security: V2_SECURITY,
        headers: IdempotencyHeadersSchema,
        body: Type.Ref('UpdateRequest'),
        response: {
          200: Type.Ref('UpdateResponse'),
          201: Type.Ref('UpdateResponse'),
          400: Type.Union([Type.Ref('UpdateResponse'), Type.Ref('ErrorEnvelope')]),
          401: Type.Ref('ErrorEnvelope'),
          403: Type.Ref('ErrorEnvelope'),
          409: Type.Ref('ErrorEnvelope'),
          413: Type.Ref('ErrorEnvelope'),
          415: Type.Ref('ErrorEnvelope'),
          422: Type.Ref('ErrorEnvelope'),
          429: Type.Ref('ErrorEnvelope'),
          500: Type.Union([Type.Ref('UpdateResponse'), Type.Ref('ErrorEnvelope')]),
        },
      },
    },
    async (request, reply) => {
      const items = batchItems(request, reply, 'customersPartnerUpdates');
      if (!items) return reply;
      const result = await updateCustomers(deps, request.caller!, items);
      idempotent.remember(request, !result.rolledBack);
      if (result.fault) request.log.error({ err: result.fault }, 'update batch failed');
      return reply.code(result.httpStatus).send(result.body);
    },
  );
}
