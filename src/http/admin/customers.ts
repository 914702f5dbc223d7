import { Type } from 'typebox';
import { answer, notFound, type AdminApp, type AdminDependencies } from './common.js';
import {
  adminDocs,
  CustomerIdentifiers,
  CustomerParams,
  CustomersBody,
  CustomerView,
  adminErrors,
  INVALID,
  INVALID_PATH,
  NO_ORG,
  OrgParams,
} from './schemas.js';

export function customerRoutes(app: AdminApp, { upsertCustomers, describeCustomer }: AdminDependencies): void {
  app.post(
    '/orgs/:orgId/customers',
    {
      schema: {
        ...adminDocs,
        operationId: 'upsertCustomers',
        summary: 'Bulk upsert of 1 to 1000 customers by any of their identifiers',
        description:
          'Each entry is matched by the identifiers it gives (id, mobile, email, externalId): no match creates a ' +
          'customer, one match updates the identifiers given and adds enrolments. Entries apply in order, each ' +
          'seeing the ones before it. All or nothing: any problem answers 400 naming every entry at fault.',
        params: OrgParams,
        body: CustomersBody,
        response: {
          200: Type.Object({ customers: Type.Array(CustomerIdentifiers) }),
          ...adminErrors({
            400: INVALID,
            404: NO_ORG,
            409: 'An identifier was taken by a concurrent request meanwhile; retry',
          }),
        },
      },
    },
    async (request, reply) => {
      const result = await upsertCustomers(Number(request.params.orgId), request.body.customers);
      return answer(reply, result.ok ? { ok: true, value: { customers: result.value } } : result);
    },
  );

  app.get(
    '/orgs/:orgId/customers/:customerId',
    {
      schema: {
        ...adminDocs,
        operationId: 'getCustomer',
        summary: 'A customer with its loyalty program enrolments',
        params: CustomerParams,
        response: {
          200: CustomerView,
          ...adminErrors({ 400: INVALID_PATH, 404: 'No such org, or no such customer in it' }),
        },
      },
    },
    async (request, reply) => {
      const { orgId, customerId } = request.params;
      const customer = await describeCustomer(Number(orgId), Number(customerId));
      return customer ?? notFound(reply, `customer ${customerId} in org ${orgId}`);
    },
  );
}
