import type { Telemetry } from '../../domain/telemetry.js';
import type { UseCases } from '../../domain/use-cases.js';
import type { App } from '../app-instance.js';
import { delinkEndpoint } from './delink.js';
import { linkEndpoint } from './link.js';
import { batchRoute } from './route.js';
import { updateEndpoint } from './update.js';

type BatchUseCases = Pick<UseCases, 'linkCustomers' | 'updateCustomers' | 'delinkCustomers' | 'idempotency'>;

/** The three v2 batch endpoints (SPEC §4–§6), each defined in its own file; `telemetry` counts their entries. */
export function batchEndpoints(app: App, useCases: BatchUseCases, telemetry?: Telemetry): void {
  batchRoute(app, useCases.idempotency, linkEndpoint(useCases.linkCustomers), telemetry);
  batchRoute(app, useCases.idempotency, updateEndpoint(useCases.updateCustomers), telemetry);
  batchRoute(app, useCases.idempotency, delinkEndpoint(useCases.delinkCustomers), telemetry);
}
