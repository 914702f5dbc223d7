import { Type } from 'typebox';
import type { DeliveryRecord } from '../../domain/event-log.service.js';
import { formatUtc } from '../../domain/dates.js';
import { notFound, sendFailure, type AdminApp, type AdminDependencies } from './common.js';
import { dropEmptyQueryValues, numberOf } from './events.js';
import { adminDocs, adminErrors, INVALID, INVALID_PATH, NO_ORG, OrgParams } from './schemas.js';
import {
  DeliveriesPage,
  DeliveriesQuery,
  DeliveryParams,
  DeliveryView,
  SavedWebhookView,
  WebhookBody,
  WebhookParams,
  WebhookView,
} from './webhook-schemas.js';

const NO_WEBHOOK = 'No such org, or no such webhook subscription in it';

export function webhookRoutes(
  app: AdminApp,
  { describeWebhooks, putWebhook, removeWebhook, listDeliveries, retryDelivery }: AdminDependencies,
): void {
  app.get(
    '/orgs/:orgId/webhooks',
    {
      schema: {
        ...adminDocs,
        operationId: 'listWebhooks',
        summary: "List the org's webhook subscriptions (never their secrets; header values as ***)",
        params: OrgParams,
        response: {
          200: Type.Object({ webhooks: Type.Array(WebhookView) }),
          ...adminErrors({ 400: INVALID_PATH, 404: NO_ORG }),
        },
      },
    },
    async (request, reply) => {
      const webhooks = await describeWebhooks(Number(request.params.orgId));
      return webhooks ? { webhooks } : notFound(reply, `org ${request.params.orgId}`);
    },
  );

  app.get(
    '/orgs/:orgId/webhooks/:name',
    {
      schema: {
        ...adminDocs,
        operationId: 'getWebhook',
        summary: 'A webhook subscription of the org (never its secret; header values as ***)',
        params: WebhookParams,
        response: { 200: WebhookView, ...adminErrors({ 400: INVALID_PATH, 404: NO_WEBHOOK }) },
      },
    },
    async (request, reply) => {
      const { orgId, name } = request.params;
      const [webhook] = (await describeWebhooks(Number(orgId), name)) ?? [];
      return webhook ?? notFound(reply, `webhook subscription "${name}" in org ${orgId}`);
    },
  );

  app.put(
    '/orgs/:orgId/webhooks/:name',
    {
      schema: {
        ...adminDocs,
        operationId: 'putWebhook',
        summary: 'Create or replace a webhook subscription',
        description:
          'The answer is the only one that shows the secret and the header values. A left-out secret is generated ' +
          'on create and kept on update; left-out active and headers keep the stored ones (on create: active, none). ' +
          'Only subscriptions active when an event is created get a delivery of it.',
        params: WebhookParams,
        body: WebhookBody,
        response: {
          200: { ...SavedWebhookView, description: 'Replaced' },
          201: { ...SavedWebhookView, description: 'Created' },
          ...adminErrors({ 400: INVALID, 404: NO_ORG }),
        },
      },
    },
    async (request, reply) => {
      const { orgId, name } = request.params;
      const result = await putWebhook(Number(orgId), name, request.body);
      if (!result.ok) return sendFailure(reply, result.failure);
      return reply.code(result.value.created ? 201 : 200).send(result.value.webhook);
    },
  );

  app.delete(
    '/orgs/:orgId/webhooks/:name',
    {
      schema: {
        ...adminDocs,
        operationId: 'deleteWebhook',
        summary: 'Delete a webhook subscription; its pending deliveries are cancelled',
        params: WebhookParams,
        response: {
          204: Type.Null({ description: 'Deleted, with its deliveries' }),
          ...adminErrors({ 400: INVALID_PATH, 404: NO_WEBHOOK }),
        },
      },
    },
    async (request, reply) => {
      const { orgId, name } = request.params;
      const result = await removeWebhook(Number(orgId), name);
      return result.ok ? reply.code(204).send(null) : sendFailure(reply, result.failure);
    },
  );

  app.get(
    '/orgs/:orgId/webhooks/:name/deliveries',
    {
      preValidation: dropEmptyQueryValues,
      schema: {
        ...adminDocs,
        operationId: 'listWebhookDeliveries',
        summary: "The subscription's deliveries, newest event first",
        description:
          "Ordered by the event's createdAt, newest first, and the events of one transaction in the reverse of " +
          'their creation order. Instants are on the service clock.',
        params: WebhookParams,
        querystring: DeliveriesQuery,
        response: {
          200: DeliveriesPage,
          ...adminErrors({ 400: 'A parameter is invalid (named in the message)', 404: NO_WEBHOOK }),
        },
      },
    },
    async (request, reply) => {
      const { orgId, name } = request.params;
      const { status, limit, cursor } = request.query;
      const result = await listDeliveries(Number(orgId), name, { status, limit: numberOf(limit), cursor });
      if (!result.ok) return sendFailure(reply, result.failure);
      return { deliveries: result.value.items.map(deliveryView), nextCursor: result.value.nextCursor };
    },
  );

  app.post(
    '/orgs/:orgId/webhooks/:name/deliveries/:eventId/retry',
    {
      schema: {
        ...adminDocs,
        operationId: 'retryWebhookDelivery',
        summary: 'Send a delivery again now, with a fresh schedule of 8 attempts',
        description:
          'The delivery is PENDING with an attempt due now (on the service clock), whatever its state; attempts ' +
          'keeps counting every attempt.',
        params: DeliveryParams,
        response: {
          202: { ...DeliveryView, description: 'The delivery, due now' },
          ...adminErrors({ 400: INVALID_PATH, 404: 'No such org, subscription, or delivery of that event to it' }),
        },
      },
    },
    async (request, reply) => {
      const { orgId, name, eventId } = request.params;
      const result = await retryDelivery(Number(orgId), name, eventId);
      if (!result.ok) return sendFailure(reply, result.failure);
      return reply.code(202).send(deliveryView(result.value));
    },
  );
}

function deliveryView(delivery: DeliveryRecord) {
  const instant = (value: DeliveryRecord['lastAttemptAt']) => (value ? formatUtc(value) : null);
  return {
    eventId: delivery.eventId,
    eventName: delivery.eventName,
    status: delivery.status,
    attempts: delivery.attempts,
    lastAttemptAt: instant(delivery.lastAttemptAt),
    lastResponseStatus: delivery.lastResponseStatus,
    lastError: delivery.lastError,
    nextAttemptAt: instant(delivery.nextAttemptAt),
    succeededAt: instant(delivery.succeededAt),
    createdAt: formatUtc(delivery.eventCreatedAt),
  };
}
