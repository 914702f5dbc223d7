import { Type, type Static } from 'typebox';

export const DelinkRequestSchema = Type.Object(
  {
    deLinkCustomers: Type.Array(
      Type.Object({
        customer: Type.Ref('CustomerIdentifiers'),
        deLinkFromPartnerPrograms: Type.Array(
          Type.Object({ partnerProgramName: Type.String({ description: 'Matched case-insensitively' }) }),
        ),
      }),
      { minItems: 1, maxItems: 50 },
    ),
  },
  { $id: 'DelinkRequest' },
);
export type DelinkRequest = Static<typeof DelinkRequestSchema>;

export const DelinkResponseSchema = Type.Object(
  {
    deLinkCustomers: Type.Array(
      Type.Object({
        customer: Type.Ref('CustomerEcho'),
        deLinkFromPartnerPrograms: Type.Array(
          Type.Object({
            partnerProgramName: Type.String(),
            partnerDeLinkStatus: Type.Ref('Status'),
          }),
        ),
      }),
    ),
    warnings: Type.Array(Type.Ref('BatchWarning')),
  },
  { $id: 'DelinkResponse' },
);
