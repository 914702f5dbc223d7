import { Type, type TSchema } from 'typebox';
import { WebhookDeclarationSchema } from '../../domain/configuration/declaration-schemas.js';
import { EVENT_NAMES } from '../../model/event.js';
import { OrgParams } from './schemas.js';

/** The webhook subscriptions, deliveries and event log of the admin API (SPEC §9.3). */

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const Instant = (description: string) => Type.String({ description: `${description}, ISO-8601 UTC` });

const webhook = WebhookDeclarationSchema.properties;

export const WebhookParams = Type.Object({ ...OrgParams.properties, name: webhook.name });
export const DeliveryParams = Type.Object({
  ...WebhookParams.properties,
  eventId: Type.String({ maxLength: 100, description: 'The eventId (a UUID); anything else is no delivery: 404' }),
});

export const WebhookBody = Type.Object(
  {
    url: webhook.url,
    events: webhook.events,
    secret: webhook.secret,
    active: webhook.active,
    headers: webhook.headers,
  },
  { additionalProperties: false },
);

export const WebhookView = Type.Object({
  name: Type.String(),
  url: Type.String(),
  events: Type.Array(Type.String(), { description: 'Event names of SPEC §9.1, or ["*"]' }),
  active: Type.Boolean(),
  headers: Type.Record(Type.String(), Type.String(), { description: 'The extra headers, each value shown as ***' }),
});

export const SavedWebhookView = Type.Object({
  ...WebhookView.properties,
  headers: Type.Record(Type.String(), Type.String(), { description: 'The extra headers with their values' }),
  secret: Type.String({ description: 'The signing secret (whsec_…): shown by this answer only' }),
});

const QueryText = (description: string) => Type.String({ description });
const Limit = QueryText('1 to 100; default 50');
const Cursor = QueryText("The previous page's nextCursor, with the same filters");

export const DeliveriesQuery = Type.Object({
  status: Type.Optional(
    Type.Enum(['PENDING', 'SUCCEEDED', 'FAILED'], { description: 'Only deliveries in this state' }),
  ),
  limit: Type.Optional(Limit),
  cursor: Type.Optional(Cursor),
});

export const EventsQuery = Type.Object({
  customerId: Type.Optional(QueryText("Only this customer's events (a positive integer)")),
  eventName: Type.Optional(Type.Enum([...EVENT_NAMES], { description: 'Only events of this name' })),
  limit: Type.Optional(Limit),
  cursor: Type.Optional(Cursor),
});

export const DeliveryView = Type.Object({
  eventId: Type.String(),
  eventName: Type.String(),
  status: Type.Enum(['PENDING', 'SUCCEEDED', 'FAILED']),
  attempts: Type.Integer({ description: 'Every attempt so far, manual retries included' }),
  lastAttemptAt: Nullable(Instant('When the last attempt ended, on the service clock')),
  lastResponseStatus: Nullable(Type.Integer({ description: "The last attempt's HTTP status" })),
  lastError: Nullable(Type.String({ description: 'Why the last attempt failed' })),
  nextAttemptAt: Nullable(Instant('When the next attempt is due, on the service clock')),
  succeededAt: Nullable(Instant('When it succeeded, on the service clock')),
  createdAt: Instant("The event's createdAt"),
});

const NextCursor = Nullable(Type.String({ description: 'The next page; null on the last one' }));

export const DeliveriesPage = Type.Object({ deliveries: Type.Array(DeliveryView), nextCursor: NextCursor });

/** The event of SPEC §9.2, as receivers get it. */
export const EventView = Type.Object({
  eventId: Type.String({ description: 'A UUID; the webhook-id of its deliveries' }),
  eventName: Type.Enum([...EVENT_NAMES]),
  orgId: Type.Integer(),
  refId: Type.String({ description: '<orgId>_ and 12 lower-case hex digits' }),
  apiRequestId: Nullable(Type.String({ description: 'The X-Request-Id of the request; null for JOB' })),
  createdAt: Instant('When the change took effect'),
  source: Type.Enum(['API', 'JOB', 'CONSOLE']),
  data: Type.Record(Type.String(), Type.Unknown(), { description: 'The membership after the change (SPEC §9.2)' }),
});

export const EventsPage = Type.Object({ events: Type.Array(EventView), nextCursor: NextCursor });
