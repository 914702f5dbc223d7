import type { App } from '../app-instance.js';
import { Type } from 'typebox';
import { ping, type DB } from '../../db/database.js';
import { sendError } from '../envelope.js';

export function healthRoutes(app: App, db: DB): void {
  const Health = Type.Object({ status: Type.Literal('ok') });
  app.get(
    '/health',
    { schema: { tags: ['ops'], summary: 'The process is up', response: { 200: Health } } },
    async () => ({ status: 'ok' as const }),
  );
  app.get(
    '/ready',
    {
      schema: {
        tags: ['ops'],
        summary: 'The service can reach its database',
        response: { 200: Health, 503: { $ref: 'ErrorEnvelope#' } },
      },
    },
    async (request, reply) => {
      try {
        await ping(db);
        return { status: 'ok' as const };
      } catch (error) {
        request.log.warn({ err: error }, 'database not reachable');
        return sendError(reply, 503, 'Database not reachable');
      }
    },
  );
}
