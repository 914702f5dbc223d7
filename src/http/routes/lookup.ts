import type { App } from '../app-instance.js';
import { Type, type Static } from 'typebox';
import type { DB } from '../../db/database.js';
import type { Clock } from '../../domain/clock.js';
import { lookupCustomer } from '../../domain/lookup.service.js';
import { customerOutcomes } from '../../domain/outcomes.js';
import { requireAccess } from '../auth.js';
import { V2_SECURITY } from '../schemas/common.js';
import { sendCodedError, sendError } from '../envelope.js';

const LookupQuery = Type.Object({
  identifierName: Type.Union([
    Type.Literal('mobile'),
    Type.Literal('email'),
    Type.Literal('externalId'),
    Type.Literal('id'),
  ]),
  identifierValue: Type.String({ minLength: 1, maxLength: 255 }),
});

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);
const DateOrNull = Nullable(Type.String({ description: "ISO-8601 in the org's timezone" }));

const LookupResponse = Type.Object(
  {
    customer: Type.Object({
      id: Type.Integer(),
      mobile: Type.String(),
      email: Type.String(),
      externalId: Type.String(),
      loyaltyProgramIds: Type.Array(Type.Integer()),
    }),
    linkedPartnerPrograms: Type.Array(
      Type.Object({
        partnerProgramId: Type.Integer(),
        partnerProgramName: Type.String(),
        partnerProgramType: Type.Union([Type.Literal('EXTERNAL'), Type.Literal('SUPPLEMENTARY')]),
        linked: Type.Boolean(),
        membershipState: Type.Union(
          ['LINKED', 'DELINKED', 'SCHEDULED', 'ACTIVE', 'EXPIRED'].map((s) => Type.Literal(s)),
        ),
        partnerMembershipId: Nullable(Type.String()),
        partnerTierNumber: Nullable(Type.Integer()),
        partnerTierName: Nullable(Type.String()),
        partnerTierExpiryDate: DateOrNull,
        partnerProgramMembershipStartDate: DateOrNull,
        partnerProgramMembershipEndDate: DateOrNull,
        pendingRelinkStartDate: DateOrNull,
      }),
    ),
    warnings: Type.Array(Type.Unknown()),
  },
  { $id: 'CustomerLookup' },
);

export function lookupRoutes(app: App, deps: { db: DB; clock: Clock }): void {
  app.addSchema(LookupResponse);
  app.get<{ Querystring: Static<typeof LookupQuery> }>(
    '/v2/customers/lookup',
    {
      onRequest: requireAccess('DEFAULT'),
      schema: {
        tags: ['customers'],
        summary: 'A customer with every partner-program membership, as it stands now',
        security: V2_SECURITY,
        querystring: LookupQuery,
        response: {
          200: Type.Ref('CustomerLookup'),
          ...Object.fromEntries([400, 401, 403, 404, 429].map((status) => [status, Type.Ref('ErrorEnvelope')])),
        },
      },
    },
    async (request, reply) => {
      const { identifierName, identifierValue } = request.query;
      if (identifierName === 'id' && !/^[1-9][0-9]{0,15}$/.test(identifierValue)) {
        return sendError(reply, 400, 'identifierValue must be a positive integer when identifierName is id');
      }
      const view = await lookupCustomer(deps, request.caller!, identifierName, identifierValue);
      if (!view) {
        const { code, message } = customerOutcomes.NOT_FOUND;
        return sendCodedError(reply, 404, code, message);
      }
      return view;
    },
  );
}
