import { Type, type Static } from 'typebox';

export const UpdateRequestSchema = Type.Object(
  {
    customersPartnerUpdates: Type.Array(
      Type.Object({
        customer: Type.Ref('CustomerIdentifiers'),
        partnerProgramUpdates: Type.Array(
          Type.Object({
            partnerProgramName: Type.String({ description: 'Matched case-insensitively' }),
            updateType: Type.String({
              description: 'Matched case-insensitively; echoed as sent',
              examples: ['UPGRADE', 'DOWNGRADE', 'RENEW', 'UPDATE', 'MEMBERSHIP_RELINKING_CANCELLED'],
            }),
            updateDetails: Type.Optional(
              Type.Object({
                updatedTierName: Type.Optional(
                  Type.String({
                    description:
                      'A tier of the program. Required for UPGRADE (strictly higher) and DOWNGRADE (strictly lower); for RENEW, if given, the current tier.',
                  }),
                ),
                updatedTierExpiryDate: Type.Optional(
                  Type.String({
                    description:
                      "Today or later. Required for RENEW. ISO-8601: with an offset (Z, +05:30), without one (read in the org's timezone), or a date only (start of that day in the org's timezone).",
                    examples: ['2027-12-31T23:59:59+05:30'],
                  }),
                ),
              }),
            ),
          }),
        ),
      }),
      { minItems: 1, maxItems: 50 },
    ),
  },
  { $id: 'UpdateRequest' },
);
export type UpdateRequest = Static<typeof UpdateRequestSchema>;

export const UpdateResponseSchema = Type.Object(
  {
    customersPartnerUpdates: Type.Array(
      Type.Object({
        customer: Type.Ref('CustomerEcho'),
        partnerProgramUpdates: Type.Array(
          Type.Object({
            partnerProgramName: Type.String(),
            updateType: Type.String({ description: 'As sent ("" when it was not a string)' }),
            updateStatus: Type.Ref('Status'),
          }),
        ),
      }),
    ),
    warnings: Type.Array(Type.Ref('BatchWarning')),
  },
  { $id: 'UpdateResponse' },
);
