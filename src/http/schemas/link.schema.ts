import { Type, type Static } from 'typebox';

const DateText = (description: string) =>
  Type.String({
    description: `${description} ISO-8601: with an offset (Z, +05:30), without one (read in the org's timezone), or a date only (start of that day in the org's timezone).`,
    examples: ['2027-01-01T00:00:00+05:30'],
  });

export const LinkRequestSchema = Type.Object(
  {
    linkCustomers: Type.Array(
      Type.Object({
        customer: Type.Ref('CustomerIdentifiers'),
        linkToPartnerPrograms: Type.Array(
          Type.Object({
            partnerProgramName: Type.String({ description: 'Matched case-insensitively' }),
            customerPartnerReference: Type.Optional(
              Type.Object({
                partnerMembershipId: Type.Optional(
                  Type.Union([Type.String({ maxLength: 255 }), Type.Integer()], {
                    description: 'Required for a new link unless one is on record from an earlier membership',
                  }),
                ),
                partnerTierName: Type.Optional(Type.String({ description: 'A tier of a tier-based EXTERNAL program' })),
                partnerTierExpiryDate: Type.Optional(DateText('Today or later.')),
                membershipStartDate: Type.Optional(
                  DateText('Today or later. On a linked SUPPLEMENTARY program, schedules a relink.'),
                ),
              }),
            ),
          }),
        ),
      }),
      { minItems: 1, maxItems: 50 },
    ),
  },
  { $id: 'LinkRequest' },
);
export type LinkRequest = Static<typeof LinkRequestSchema>;

export const LinkResponseSchema = Type.Object(
  {
    linkCustomers: Type.Array(
      Type.Object({
        customer: Type.Ref('CustomerEcho'),
        linkToPartnerPrograms: Type.Array(
          Type.Object({
            partnerProgramName: Type.String(),
            partnerLinkStatus: Type.Ref('Status'),
          }),
        ),
      }),
    ),
    warnings: Type.Array(Type.Ref('BatchWarning')),
  },
  { $id: 'LinkResponse' },
);
