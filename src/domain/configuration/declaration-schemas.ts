import { Type } from 'typebox';
import { EVENT_NAMES } from '../../model/event.js';
import { MAX_TOKEN_TTL_SECONDS } from '../tokens.js';

/**
 * The shape of the configuration file (CONFIG_FILE) and of the admin API's bodies: one set of
 * schemas for validation, static types (declarations.ts) and the OpenAPI document.
 */

const Name = (maxLength: number) => Type.String({ minLength: 1, maxLength });
const Identifier = Type.Union([Type.String({ minLength: 1, maxLength: 255 }), Type.Integer({ minimum: 0 })]);

export const CycleSchema = Type.Object(
  {
    unit: Type.Union([Type.Literal('DAYS'), Type.Literal('MONTHS')]),
    value: Type.Integer({ minimum: 1, maximum: 36500 }),
  },
  { additionalProperties: false },
);

export const PartnerProgramDeclarationSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 50, pattern: '\\S' }),
    type: Type.Union([Type.Literal('EXTERNAL'), Type.Literal('SUPPLEMENTARY')]),
    description: Type.Optional(Type.String({ maxLength: 100 })),
    tiers: Type.Optional(Type.Array(Name(64), { maxItems: 100, description: 'Ordered: the first is tier 1' })),
    membershipCycle: Type.Optional(CycleSchema),
    expiryDate: Type.Optional(Type.Union([Type.String({ minLength: 1 }), Type.Null()])),
    backupProgram: Type.Optional(Type.Union([Type.String({ minLength: 1 }), Type.Null()])),
    expiryReminderDays: Type.Optional(
      Type.Array(Type.Integer({ minimum: 1, maximum: 3650 }), { maxItems: 10, uniqueItems: true }),
    ),
    active: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const LoyaltyProgramDeclarationSchema = Type.Object(
  {
    id: Type.Integer({ minimum: 1 }),
    name: Name(100),
    oneSupplementaryProgramAtATime: Type.Optional(Type.Boolean()),
    partnerPrograms: Type.Optional(Type.Array(PartnerProgramDeclarationSchema, { maxItems: 1000 })),
  },
  { additionalProperties: false },
);

export const CustomerDeclarationSchema = Type.Object(
  {
    id: Type.Optional(Type.Integer({ minimum: 1 })),
    mobile: Type.Optional(Identifier),
    email: Type.Optional(Identifier),
    externalId: Type.Optional(Identifier),
    loyaltyPrograms: Type.Optional(Type.Array(Type.Integer({ minimum: 1 }), { uniqueItems: true })),
  },
  { additionalProperties: false },
);

/** The credentials an org declares (config file `tills:` / `oauthClients:`, and the admin API's bodies). */
export const AccessGroupSchema = Type.Union([Type.Literal('DEFAULT'), Type.Literal('PARTNER_PROGRAM')]);

export const TillDeclarationSchema = Type.Object(
  {
    username: Name(100),
    password: Name(200),
    accessGroups: Type.Array(AccessGroupSchema, { uniqueItems: true }),
  },
  { additionalProperties: false },
);

export const OAuthClientDeclarationSchema = Type.Object(
  {
    key: Type.String({
      minLength: 1,
      maxLength: 100,
      pattern: '^[A-Za-z0-9._~-]+$',
      description: 'Unique across the service; letters, digits and . _ ~ - (it appears in admin URLs)',
    }),
    secret: Type.String({
      minLength: 16,
      maxLength: 200,
      description: 'At least 16 characters; stored only as a scrypt hash',
    }),
    accessGroups: Type.Array(AccessGroupSchema, { uniqueItems: true }),
    tokenTtlSeconds: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_TOKEN_TTL_SECONDS,
        description: `Token lifetime; default and maximum ${MAX_TOKEN_TTL_SECONDS}`,
      }),
    ),
  },
  { additionalProperties: false },
);

/**
 * A webhook subscription (SPEC §9.3): config file `webhooks:` and the admin API's PUT body. What a
 * schema cannot say (an absolute http(s) URL, `["*"]` alone, the secret's form, header names and
 * values) is checked by checkWebhook (webhooks.ts), so both places answer in the same words.
 */
export const WebhookDeclarationSchema = Type.Object(
  {
    name: Type.String({
      minLength: 1,
      maxLength: 64,
      pattern: '^[A-Za-z0-9_.-]+$',
      description: 'Unique in the org; 1 to 64 letters, digits and _ . -',
    }),
    url: Type.String({ minLength: 1, maxLength: 2048, description: 'An absolute http or https URL' }),
    events: Type.Array(Type.Enum([...EVENT_NAMES, '*']), {
      minItems: 1,
      uniqueItems: true,
      description: 'The events to deliver (SPEC §9.1), or ["*"] for all of them',
    }),
    secret: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 200,
        description:
          'The signing secret: whsec_ and the base64 of 24 to 64 bytes. Left out: generated on create, kept on update',
      }),
    ),
    active: Type.Optional(Type.Boolean({ description: 'Default true; an inactive subscription gets no deliveries' })),
    headers: Type.Optional(
      Type.Record(Type.String(), Type.String({ maxLength: 4096 }), {
        maxProperties: 10,
        description:
          "At most 10 extra request headers sent on every attempt (e.g. the receiver's own Authorization); " +
          'not content-type, content-length, host, webhook-*, nor the hop-by-hop connection, keep-alive, ' +
          'transfer-encoding, upgrade and expect',
      }),
    ),
  },
  { additionalProperties: false },
);

export const OrgDeclarationSchema = Type.Object(
  {
    id: Type.Integer({ minimum: 1 }),
    name: Name(200),
    timezone: Type.Optional(Type.String({ minLength: 1 })),
    configs: Type.Optional(Type.Record(Type.String({ pattern: '^[A-Z][A-Z0-9_]*$' }), Type.Unknown())),
    loyaltyPrograms: Type.Optional(Type.Array(LoyaltyProgramDeclarationSchema)),
    tills: Type.Optional(Type.Array(TillDeclarationSchema)),
    oauthClients: Type.Optional(Type.Array(OAuthClientDeclarationSchema)),
    customers: Type.Optional(Type.Array(CustomerDeclarationSchema)),
    webhooks: Type.Optional(Type.Array(WebhookDeclarationSchema)),
  },
  { additionalProperties: false },
);

export const DeclarationsSchema = Type.Object(
  { orgs: Type.Array(OrgDeclarationSchema) },
  { additionalProperties: false },
);
