import type { FastifyRequest } from 'fastify';
import type { Static } from 'typebox';
import { eventBody } from '../../model/event.js';
import { sendFailure, type AdminApp, type AdminDependencies } from './common.js';
import { adminDocs, adminErrors, INVALID_PATH, NO_ORG, OrgParams } from './schemas.js';
import { EventsPage, EventsQuery, type EventView } from './webhook-schemas.js';

/** An empty query value counts as absent (SPEC §3a): `?status=&limit=` is the whole listing. */
export async function dropEmptyQueryValues(request: FastifyRequest): Promise<void> {
  const query = request.query as Record<string, unknown>;
  for (const [name, value] of Object.entries(query)) if (value === '') delete query[name];
}

/** A query's digits as a number; anything else as NaN, which the use case refuses naming the parameter. */
export function numberOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  return /^[0-9]{1,15}$/.test(text) ? Number(text) : Number.NaN;
}

const BAD_QUERY = 'A parameter is invalid (named in the message): limit, a cursor of other filters, …';

export function eventRoutes(app: AdminApp, { listEvents }: AdminDependencies): void {
  app.get(
    '/orgs/:orgId/events',
    {
      preValidation: dropEmptyQueryValues,
      schema: {
        ...adminDocs,
        operationId: 'listEvents',
        summary: "The org's event log, newest first",
        description:
          'Each event exactly as its receivers get it (SPEC §9.2), ordered by createdAt, newest first, and the ' +
          'events of one transaction in the reverse of their creation order. Events are kept EVENT_RETENTION_DAYS.',
        params: OrgParams,
        querystring: EventsQuery,
        response: { 200: EventsPage, ...adminErrors({ 400: `${INVALID_PATH}; or ${BAD_QUERY}`, 404: NO_ORG }) },
      },
    },
    async (request, reply) => {
      const { customerId, eventName, limit, cursor } = request.query;
      const result = await listEvents(Number(request.params.orgId), {
        customerId: numberOf(customerId),
        eventName,
        limit: numberOf(limit),
        cursor,
      });
      if (!result.ok) return sendFailure(reply, result.failure);
      // The body each receiver gets, so that the log shows exactly what was sent.
      const events = result.value.items.map((event) => JSON.parse(eventBody(event)) as Static<typeof EventView>);
      return { events, nextCursor: result.value.nextCursor };
    },
  );
}
