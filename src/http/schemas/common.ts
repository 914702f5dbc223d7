import { Type } from 'typebox';

/** Identifier values may be strings or integers; they are compared as strings (SPEC §3a). */
const IdentifierValue = Type.Union([Type.String(), Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })]);

export const CustomerIdentifiersSchema = Type.Object(
  {
    id: Type.Optional(
      Type.Union(
        [Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }), Type.String({ pattern: '^0*[1-9][0-9]*$' })],
        {
          description: "The service's customer id",
        },
      ),
    ),
    mobile: Type.Optional(IdentifierValue),
    email: Type.Optional(IdentifierValue),
    externalId: Type.Optional(IdentifierValue),
  },
  { $id: 'CustomerIdentifiers', description: 'At least one identifier; all given must name the same customer.' },
);

export const CustomerEchoSchema = Type.Object(
  {
    id: Type.Optional(Type.Integer()),
    mobile: Type.Optional(Type.String()),
    email: Type.Optional(Type.String()),
    externalId: Type.Optional(Type.String()),
    // Always present. Declared optional only because the serializer writes required properties
    // first, and the wire order is Capillary's: id, mobile, email, externalId, status.
    status: Type.Optional(Type.Ref('Status')),
  },
  {
    $id: 'CustomerEcho',
    description:
      'When found: all four identifiers of the stored customer (an absent one as ""). When not found: the identifiers as sent, without id. `status` is always present.',
  },
);

export const WarningSchema = Type.Object(
  {
    status: Type.Boolean(),
    code: Type.Integer(),
    message: Type.String(),
    customerIndex: Type.Integer({ description: 'Index of the customer item in the request, from 0' }),
    partnerProgramName: Type.String(),
  },
  { $id: 'BatchWarning' },
);

/** Every v2 route takes till credentials (Basic) or an OAuth token in either header. */
export const V2_SECURITY: Array<Record<string, string[]>> = [
  { basicAuth: [] },
  { oauthToken: [] },
  { bearerToken: [] },
];

export const IdempotencyHeadersSchema = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      maxLength: 255,
      description:
        'Optional, 1 to 255 visible ASCII characters. A retry with the same key and body within 24 hours answers the first response again (with `Idempotent-Replayed: true`) and changes nothing; the same key with another body answers 422.',
    }),
  ),
});
