import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Clock } from '../../domain/clock.js';
import type { SandboxClock } from '../../domain/sandbox-clock.js';
import type { ConfigurationUseCases } from '../../domain/use-cases.js';
import { requireAdminToken } from './auth.js';
import { clockRoutes } from './clock.js';
import { rejectInvalidRequest } from './common.js';
import { customerRoutes } from './customers.js';
import { eventRoutes } from './events.js';
import { oauthClientRoutes } from './oauth-clients.js';
import { orgRoutes } from './orgs.js';
import { partnerProgramRoutes } from './programs.js';
import { tillRoutes } from './tills.js';
import { webhookRoutes } from './webhooks.js';

export interface AdminRoutesOptions {
  token: string;
  configuration: ConfigurationUseCases;
  clock: Clock;
  /** Present when ALLOW_CLOCK_OVERRIDE=true: the clock the admin API may move. */
  sandbox?: SandboxClock;
}

/**
 * `/admin/v1`: configuration of orgs, programs, tills, OAuth clients, customers and webhook
 * subscriptions, and the event log, behind the ADMIN_TOKEN.
 * Encapsulated (not wrapped in fastify-plugin), so its hooks touch only its own routes.
 */
export const adminRoutes: FastifyPluginAsync<AdminRoutesOptions> = async (instance, opts) => {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();

  app.addHook('onRequest', requireAdminToken(opts.token));
  // Ajv's first error alone names a field poorly; rejectInvalidRequest reports every problem by path.
  app.addHook('onRoute', (route) => {
    route.attachValidation = true;
  });
  app.addHook('preHandler', rejectInvalidRequest);

  orgRoutes(app, opts.configuration);
  partnerProgramRoutes(app, opts.configuration);
  tillRoutes(app, opts.configuration);
  oauthClientRoutes(app, opts.configuration);
  customerRoutes(app, opts.configuration);
  webhookRoutes(app, opts.configuration);
  eventRoutes(app, opts.configuration);
  clockRoutes(app, { clock: opts.clock, sandbox: opts.sandbox });
};
