import { delinkCustomers } from '../../domain/delink/delink.service.js';
import { linkCustomers } from '../../domain/link/link.service.js';
import { updateCustomers } from '../../domain/update/update.service.js';
import type { App } from '../app-instance.js';
import { batchRoute, type BatchRouteDependencies } from '../batch-route.js';
import { DelinkRequestSchema, DelinkResponseSchema } from '../schemas/delink.schema.js';
import { LinkRequestSchema, LinkResponseSchema } from '../schemas/link.schema.js';
import { UpdateRequestSchema, UpdateResponseSchema } from '../schemas/update.schema.js';

/** The three v2 batch endpoints (SPEC §4–§6). */
export function batchEndpoints(app: App, deps: BatchRouteDependencies): void {
  batchRoute(app, deps, {
    path: '/v2/partnerProgram/linkCustomer',
    operationId: 'linkCustomer',
    itemsField: 'linkCustomers',
    request: LinkRequestSchema,
    response: LinkResponseSchema,
    summary: 'Link customers to partner programs, or schedule a relink',
    description: 'Up to 50 customers, each with any number of programs.',
    run: linkCustomers,
  });
  batchRoute(app, deps, {
    path: '/v2/partnerProgram/customerPartnerProgramUpdate',
    operationId: 'customerPartnerProgramUpdate',
    itemsField: 'customersPartnerUpdates',
    request: UpdateRequestSchema,
    response: UpdateResponseSchema,
    summary: "Upgrade, downgrade, renew or update a linked customer's partner tier, or cancel a pending relink",
    description:
      'Up to 50 customers, each with any number of program updates. updateType is one of UPGRADE, DOWNGRADE, RENEW, UPDATE (tier-based programs only) or MEMBERSHIP_RELINKING_CANCELLED (a pending SUPPLEMENTARY relink).',
    run: updateCustomers,
  });
  batchRoute(app, deps, {
    path: '/v2/partnerProgram/deLinkCustomer',
    operationId: 'deLinkCustomer',
    itemsField: 'deLinkCustomers',
    request: DelinkRequestSchema,
    response: DelinkResponseSchema,
    summary: 'Delink customers from partner programs',
    description:
      'Up to 50 customers, each with any number of programs. Ends the membership (state DELINKED) and cancels a pending relink; an expired SUPPLEMENTARY membership with a pending relink can be delinked.',
    run: delinkCustomers,
  });
}
