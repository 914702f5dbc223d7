import { Type, type Static } from 'typebox';

/**
 * Every parameter is an optional string here: Ajv does not coerce types in this app, and the
 * handler reads each value itself so that an empty one counts as absent (SPEC §3a) and a bad
 * one is answered with a message that names it (400, or 2014/2015 for the activity type).
 */
export const HistoryQuerySchema = Type.Object({
  identifierName: Type.Optional(Type.String({ description: 'mobile | email | externalId | id (required)' })),
  identifierValue: Type.Optional(Type.String({ description: 'Required' })),
  source: Type.Optional(Type.String({ description: 'Accepted for compatibility (e.g. instore); no effect' })),
  activityType: Type.Optional(
    Type.String({
      description:
        'Required. LINKINGUPDATES or BENEFITSAVAILED, in any case, with or without underscores (linkingUpdates, LINKING_UPDATES). BENEFITSAVAILED answers 2011: benefits are not supported yet.',
    }),
  ),
  startDate: Type.Optional(
    Type.String({ description: 'Only with BENEFITSAVAILED (2015 with LINKINGUPDATES); ignored' }),
  ),
  endDate: Type.Optional(Type.String({ description: 'Only with BENEFITSAVAILED (2015 with LINKINGUPDATES); ignored' })),
  partnerProgramId: Type.Optional(Type.String({ description: 'A positive integer: only this program' })),
  partnerProgramType: Type.Optional(Type.String({ description: 'EXTERNAL | SUPPLEMENTARY, in any case' })),
  limit: Type.Optional(Type.String({ description: 'Programs per page, 0 to 10 (default 10)' })),
  offset: Type.Optional(Type.String({ description: 'Programs to skip, 0 or more (default 0)' })),
});
export type HistoryQueryText = Static<typeof HistoryQuerySchema>;

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);
const UtcDate = (description: string) => Type.String({ description: `${description} UTC ISO-8601 with Z.` });
const UtcDateOrNull = (description: string) => Nullable(UtcDate(`${description} Null when absent.`));

export const HistoryResponseSchema = Type.Object(
  {
    pagination: Type.Object({
      limit: Type.Integer(),
      offset: Type.Integer(),
      total: Type.Integer({ description: 'Programs with activity that pass the filters' }),
    }),
    data: Type.Array(
      Type.Object({
        partnerProgramDetails: Type.Object({
          programName: Type.String({ description: "The loyalty program's name" }),
          partnerProgramId: Type.Integer(),
          partnerProgramName: Type.String(),
          partnerProgramDescription: Type.String({ description: '"" when none' }),
          partnerTierNumber: Nullable(Type.Integer()),
          partnerTierName: Nullable(Type.String()),
          partnerTierExpiryDate: UtcDateOrNull('Tier expiry.'),
          partnerMembershipId: Nullable(Type.String()),
          partnerProgramType: Type.Union([Type.Literal('EXTERNAL'), Type.Literal('SUPPLEMENTARY')]),
          partnerProgramMembershipStartDate: UtcDateOrNull('Start of the current (or last) period.'),
          partnerProgramMembershipEndDate: UtcDateOrNull('End of the current (or last) period; null on EXTERNAL.'),
          partnerProgramMembershipLastUpdatedDate: UtcDate('Instant of the newest activity.'),
          partnerProgramMembershipLastUpdatedActivity: Type.String({ description: 'Type of the newest activity' }),
          benefitsSummary: Type.Array(Type.Unknown(), { description: 'Always empty: benefits are not supported yet' }),
          linked: Type.Boolean({ description: 'True while LINKED, SCHEDULED or ACTIVE' }),
          tierBased: Type.Boolean(),
        }),
        customerActivityHistory: Type.Array(
          Type.Object({
            activityType: Type.String({ examples: ['ENROLLMENT', 'SUPPLEMENTARY_MEMBERSHIP_STARTED'] }),
            activityDate: UtcDate('When it happened (a due transition: when it fell due).'),
          }),
          { description: 'Newest first' },
        ),
      }),
      { description: 'One entry per program, most recently changed first' },
    ),
    warnings: Type.Array(Type.Unknown()),
    errors: Type.Array(Type.Ref('Status'), { description: '2011 when no program has activity' }),
  },
  { $id: 'CustomerActivityHistory' },
);
