import { Type, type TSchema } from 'typebox';
import { errorAnswer } from '../envelope.js';
import {
  CustomerDeclarationSchema,
  CycleSchema,
  LoyaltyProgramDeclarationSchema,
  OAuthClientDeclarationSchema,
  OrgDeclarationSchema,
  PartnerProgramDeclarationSchema,
  TillDeclarationSchema,
} from '../../domain/configuration/declaration-schemas.js';

/** Admin bodies reuse the config file's schemas, so the file and the API accept the same values. */

/** Every admin route is documented under one tag and needs the admin token. */
export const adminDocs = { tags: ['admin'], security: [{ adminToken: [] }] };

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/**
 * The error answers of an admin route, each with when it is given: 401 on every route (the admin
 * token), and those the route names. The framework's own (400 malformed, 413, 415, 500, 503)
 * are added to every route by src/http/schemas/openapi.ts.
 */
export function adminErrors(answers: Partial<Record<400 | 403 | 404 | 409, string>> = {}) {
  const documented: Record<number, ReturnType<typeof errorAnswer>> = {
    401: errorAnswer('No admin token, or a wrong one'),
  };
  for (const [status, when] of Object.entries(answers)) documented[Number(status)] = errorAnswer(when);
  return documented;
}

/** The usual reasons, in the words of the answers. */
export const INVALID = 'Invalid: one error per problem, each message naming its field path';
export const INVALID_PATH = 'A path parameter is invalid (named in the message)';
export const NO_ORG = 'No such org';

// Path ids stay strings (Ajv does not coerce): at most 15 digits, so every one is a safe JS integer.
const PathId = Type.String({ pattern: '^[1-9][0-9]{0,14}$', description: 'A positive integer' });
export const OrgParams = Type.Object({ orgId: PathId });
export const LoyaltyProgramParams = Type.Object({ orgId: PathId, loyaltyProgramId: PathId });
export const PartnerProgramParams = Type.Object({
  orgId: PathId,
  name: PartnerProgramDeclarationSchema.properties.name,
});
export const TillParams = Type.Object({ orgId: PathId, username: TillDeclarationSchema.properties.username });
export const CustomerParams = Type.Object({ orgId: PathId, customerId: PathId });
export const OAuthClientParams = Type.Object({ orgId: PathId, key: OAuthClientDeclarationSchema.properties.key });

const CONFIG_KEY = '^[A-Z][A-Z0-9_]*$';

/**
 * What a key of an object with `patternProperties` (and no other keys) must look like, by
 * pattern: the message of a key that matches none (see rejectInvalidRequest).
 */
export const KEY_RULES: Readonly<Record<string, string>> = {
  [CONFIG_KEY]: 'config keys are upper-case letters, digits and _',
};

/** Org configs: any JSON value under a key that KEY_RULES names. */
const ConfigsBody = (description: string, options: { minProperties?: number } = {}) =>
  Type.Record(Type.String({ pattern: CONFIG_KEY }), Type.Unknown(), {
    additionalProperties: false,
    description: `${description}; ${KEY_RULES[CONFIG_KEY]}`,
    ...options,
  });

export const OrgBody = Type.Object(
  {
    name: OrgDeclarationSchema.properties.name,
    timezone: Type.Optional(
      Type.String({ minLength: 1, description: 'IANA name; left out: unchanged (the server TZ on create)' }),
    ),
    configs: Type.Optional(ConfigsBody('Merged into the stored configs')),
  },
  { additionalProperties: false },
);

export const ConfigsPatchBody = ConfigsBody('JSON merge patch: each key is set, a null removes it', {
  minProperties: 1,
});

export const LoyaltyProgramBody = Type.Object(
  {
    name: LoyaltyProgramDeclarationSchema.properties.name,
    oneSupplementaryProgramAtATime: LoyaltyProgramDeclarationSchema.properties.oneSupplementaryProgramAtATime,
  },
  { additionalProperties: false },
);

export const PartnerProgramBody = Type.Object(
  {
    ...PartnerProgramDeclarationSchema.properties,
    name: Type.Optional(PartnerProgramDeclarationSchema.properties.name),
    loyaltyProgramId: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
  },
  { additionalProperties: false },
);

export const TillBody = Type.Object(
  { password: TillDeclarationSchema.properties.password, accessGroups: TillDeclarationSchema.properties.accessGroups },
  { additionalProperties: false },
);

export const OAuthClientBody = Type.Object(
  {
    secret: OAuthClientDeclarationSchema.properties.secret,
    accessGroups: OAuthClientDeclarationSchema.properties.accessGroups,
    tokenTtlSeconds: OAuthClientDeclarationSchema.properties.tokenTtlSeconds,
  },
  { additionalProperties: false },
);

export const CustomersBody = Type.Object(
  { customers: Type.Array(CustomerDeclarationSchema, { minItems: 1, maxItems: 1000 }) },
  { additionalProperties: false },
);

const Configs = Type.Record(Type.String(), Type.Unknown());

export const OrgSummary = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  timezone: Type.String(),
  configs: Configs,
});

export const LoyaltyProgramView = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  oneSupplementaryProgramAtATime: Type.Boolean(),
});

export const PartnerProgramView = Type.Object({
  id: Type.Integer(),
  loyaltyProgramId: Type.Integer(),
  name: Type.String(),
  type: PartnerProgramDeclarationSchema.properties.type,
  description: Nullable(Type.String()),
  active: Type.Boolean(),
  tiers: Type.Array(Type.String(), { description: 'Ordered: the first is tier 1' }),
  membershipCycle: Nullable(CycleSchema),
  expiryDate: Nullable(Type.String({ description: 'ISO-8601 in the org timezone' })),
  backupProgram: Nullable(Type.String()),
  expiryReminderDays: Type.Array(Type.Integer()),
});

export const TillView = Type.Object({ username: Type.String(), accessGroups: Type.Array(Type.String()) });

export const OAuthClientView = Type.Object({
  key: Type.String(),
  accessGroups: Type.Array(Type.String()),
  tokenTtlSeconds: Type.Integer(),
});

export const OrgView = Type.Object({
  ...OrgSummary.properties,
  loyaltyPrograms: Type.Array(
    Type.Object({ ...LoyaltyProgramView.properties, partnerPrograms: Type.Array(PartnerProgramView) }),
  ),
  tills: Type.Array(TillView, { description: 'Passwords are never shown' }),
  oauthClients: Type.Array(OAuthClientView, { description: 'Secrets are never shown' }),
  customerCount: Type.Integer(),
});

export const CustomerIdentifiers = Type.Object({
  id: Type.Integer(),
  mobile: Nullable(Type.String()),
  email: Nullable(Type.String()),
  externalId: Nullable(Type.String()),
});

export const CustomerView = Type.Object({
  ...CustomerIdentifiers.properties,
  loyaltyProgramIds: Type.Array(Type.Integer()),
  createdAt: Type.String({ description: 'ISO-8601 in the org timezone' }),
});
