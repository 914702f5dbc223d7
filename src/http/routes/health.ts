import { Type } from 'typebox';
import type { UseCases } from '../../domain/use-cases.js';
import type { App } from '../app-instance.js';
import { errorAnswer, sendError } from '../envelope.js';

/** Probes for orchestrators and load balancers: no authentication. */
export function healthRoutes(app: App, { ready }: Pick<UseCases, 'ready'>): void {
  const Health = Type.Object({ status: Type.Literal('ok') });
  app.get(
    '/health',
    {
      schema: {
        operationId: 'getHealth',
        tags: ['ops'],
        summary: 'The process is up',
        security: [],
        response: { 200: Health },
      },
    },
    async () => ({ status: 'ok' as const }),
  );
  app.get(
    '/ready',
    {
      schema: {
        operationId: 'getReadiness',
        tags: ['ops'],
        summary: 'The service can reach its database',
        security: [],
        response: { 200: Health, 503: errorAnswer('The database is not reachable, or the service is shutting down') },
      },
    },
    async (request, reply) => {
      try {
        await ready();
        return { status: 'ok' as const };
      } catch (error) {
        request.log.warn({ err: error }, 'database not reachable');
        return sendError(reply, 503, 'Database not reachable');
      }
    },
  );
}
