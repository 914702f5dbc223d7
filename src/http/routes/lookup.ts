import type { App } from '../app-instance.js';
import { Type, type Static } from 'typebox';
import type { Temporal } from 'temporal-polyfill';
import { formatInZone } from '../../domain/dates.js';
import type { CustomerMemberships } from '../../domain/lookup.service.js';
import { customerOutcomes } from '../../domain/outcomes.js';
import type { UseCases } from '../../domain/use-cases.js';
import type { IdentifierName } from '../../model/customer.js';
import { requireAccess } from '../auth.js';
import { V2_SECURITY } from '../schemas/common.js';
import { sendCodedError, sendError } from '../envelope.js';

const IdentifierQuery = {
  identifierName: Type.Union(
    [Type.Literal('mobile'), Type.Literal('email'), Type.Literal('externalId'), Type.Literal('id')],
    { description: 'Which identifier `identifierValue` is' },
  ),
  identifierValue: Type.String({ minLength: 1, maxLength: 255 }),
};

const FetchCustomerIdQuery = Type.Object({
  source: Type.Optional(Type.String({ description: 'INSTORE, ALL, …: accepted, no effect' })),
  accountId: Type.Optional(Type.String({ description: 'Accepted, no effect' })),
  ...IdentifierQuery,
});

const PartnerProgramsQuery = Type.Object({
  source: Type.Optional(Type.String({ description: 'Accepted, no effect' })),
  ...IdentifierQuery,
});

const CustomerIdParams = Type.Object({
  id: Type.String({ pattern: '^[1-9][0-9]{0,15}$', description: "The service's customer id" }),
});

const CustomerIdResponse = Type.Object(
  {
    entity: Type.Integer({ description: "The customer's id" }),
    warnings: Type.Array(Type.Unknown()),
  },
  { $id: 'CustomerId' },
);

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);
const DateOrNull = Nullable(Type.String({ description: "ISO-8601 in the org's timezone" }));

const CustomerPartnerPrograms = Type.Object(
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
        membershipState: Type.Union([
          Type.Literal('LINKED'),
          Type.Literal('DELINKED'),
          Type.Literal('SCHEDULED'),
          Type.Literal('ACTIVE'),
          Type.Literal('EXPIRED'),
        ]),
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
  { $id: 'CustomerPartnerPrograms' },
);

/** The view's wire body: identifiers absent as "", dates ISO-8601 in the org's timezone. */
function partnerProgramsAnswer(view: CustomerMemberships, zone: string): Static<typeof CustomerPartnerPrograms> {
  const show = (instant: Temporal.Instant | null) => (instant ? formatInZone(instant, zone) : null);
  const { customer } = view;
  return {
    customer: {
      id: customer.id,
      mobile: customer.mobile ?? '',
      email: customer.email ?? '',
      externalId: customer.externalId ?? '',
      loyaltyProgramIds: customer.loyaltyProgramIds,
    },
    linkedPartnerPrograms: view.memberships.map(({ membership: m, programName, tierName }) => ({
      partnerProgramId: m.programId,
      partnerProgramName: programName,
      partnerProgramType: m.programType,
      linked: m.state === 'LINKED' || m.state === 'SCHEDULED' || m.state === 'ACTIVE',
      membershipState: m.state,
      partnerMembershipId: m.partnerMembershipId,
      partnerTierNumber: m.tierNumber,
      partnerTierName: tierName,
      partnerTierExpiryDate: show(m.tierExpiry),
      partnerProgramMembershipStartDate: show(m.start),
      partnerProgramMembershipEndDate: show(m.end),
      pendingRelinkStartDate: show(m.pendingRelinkStart),
    })),
    warnings: [],
  };
}

const CUSTOMER_NOT_FOUND = { code: 8015, message: 'Customer not found for given identifiers' };
const errorResponses = (statuses: number[]) =>
  Object.fromEntries(statuses.map((status) => [status, Type.Ref('ErrorEnvelope')]));

/** An `id` identifier must be a positive integer; any other value is looked up as given. */
function identifierOf(name: IdentifierName, value: string): string | number | undefined {
  if (name !== 'id') return value;
  return /^[1-9][0-9]{0,15}$/.test(value) ? Number(value) : undefined;
}
const BAD_ID = 'identifierValue must be a positive integer when identifierName is id';

/**
 * SPEC §7a. `/v2/customers/lookup` is Capillary's "fetch customer id", which clients call to
 * learn whether a customer exists; the customer with its memberships is this service's own view.
 */
export function lookupRoutes(
  app: App,
  { findCustomerId, lookupCustomer }: Pick<UseCases, 'findCustomerId' | 'lookupCustomer'>,
): void {
  app.addSchema(CustomerIdResponse);
  app.addSchema(CustomerPartnerPrograms);

  app.get<{ Querystring: Static<typeof FetchCustomerIdQuery> }>(
    '/v2/customers/lookup',
    {
      onRequest: requireAccess('DEFAULT'),
      schema: {
        tags: ['customers'],
        operationId: 'fetchCustomerId',
        summary: "A customer's id, from one of its identifiers (Capillary's fetch customer id)",
        description: 'Not found answers HTTP 404 with code 8015.',
        security: V2_SECURITY,
        querystring: FetchCustomerIdQuery,
        response: { 200: Type.Ref('CustomerId'), ...errorResponses([400, 401, 403, 404, 429]) },
      },
    },
    async (request, reply) => {
      const { identifierName, identifierValue } = request.query;
      const value = identifierOf(identifierName, identifierValue);
      if (value === undefined) return sendError(reply, 400, BAD_ID);
      const id = await findCustomerId(request.caller!, identifierName, value);
      if (id === undefined) return sendCodedError(reply, 404, CUSTOMER_NOT_FOUND.code, CUSTOMER_NOT_FOUND.message);
      return { entity: id, warnings: [] };
    },
  );

  const viewSchema = {
    tags: ['customers'],
    security: V2_SECURITY,
    response: { 200: Type.Ref('CustomerPartnerPrograms'), ...errorResponses([400, 401, 403, 404, 429]) },
  };
  const notFound = customerOutcomes.NOT_FOUND;

  app.get<{ Querystring: Static<typeof PartnerProgramsQuery> }>(
    '/v2/customers/lookup/partnerPrograms',
    {
      onRequest: requireAccess('DEFAULT'),
      schema: {
        ...viewSchema,
        operationId: 'lookupCustomerPartnerPrograms',
        summary: 'A customer, found by an identifier, with every partner-program membership as it stands now',
        description: 'Not found answers HTTP 404 with code 1011.',
        querystring: PartnerProgramsQuery,
      },
    },
    async (request, reply) => {
      const { identifierName, identifierValue } = request.query;
      const value = identifierOf(identifierName, identifierValue);
      if (value === undefined) return sendError(reply, 400, BAD_ID);
      const view = await lookupCustomer(request.caller!, identifierName, value);
      if (!view) return sendCodedError(reply, 404, notFound.code, notFound.message);
      return partnerProgramsAnswer(view, request.caller!.org.timezone);
    },
  );

  app.get<{ Params: Static<typeof CustomerIdParams> }>(
    '/v2/customers/:id/partnerPrograms',
    {
      onRequest: requireAccess('DEFAULT'),
      schema: {
        ...viewSchema,
        operationId: 'getCustomerPartnerPrograms',
        summary: 'A customer, by id, with every partner-program membership as it stands now',
        description: 'Not found answers HTTP 404 with code 1011.',
        params: CustomerIdParams,
      },
    },
    async (request, reply) => {
      const view = await lookupCustomer(request.caller!, 'id', Number(request.params.id));
      if (!view) return sendCodedError(reply, 404, notFound.code, notFound.message);
      return partnerProgramsAnswer(view, request.caller!.org.timezone);
    },
  );
}
