import { Type, type Static } from 'typebox';
import { MAX_TOKEN_TTL_SECONDS } from './tokens.js';

/** The credentials an org declares (config file `tills:` / `oauthClients:`, and the admin API's bodies). */

const Name = (maxLength: number) => Type.String({ minLength: 1, maxLength });

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

export type TillDeclaration = Static<typeof TillDeclarationSchema>;
export type OAuthClientDeclaration = Static<typeof OAuthClientDeclarationSchema>;
