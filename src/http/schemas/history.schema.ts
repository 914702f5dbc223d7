import { Type, type Static } from 'typebox';

/**
 * The query parameters as the OpenAPI document publishes them. The route does not validate with
 * this schema: the handler reads each value itself (src/http/routes/history.ts), so that an empty
 * one counts as absent (SPEC §3a), `activityType` and `partnerProgramType` are accepted in any
 * spelling, and a bad value answers with the code of Capillary's API (400, 2014, 2015) and a
 * message that names it.
 */
export const HistoryQuerySchema = Type.Object({
  identifierName: Type.Enum(['mobile', 'email', 'externalId', 'id'], {
    description: 'Which identifier identifierValue is',
  }),
  identifierValue: Type.String({
    minLength: 1,
    maxLength: 255,
    description: 'The identifier; a positive integer when identifierName is id',
  }),
  source: Type.Optional(Type.String({ description: 'Accepted for compatibility (e.g. instore); no effect' })),
  activityType: Type.Enum(['LINKINGUPDATES', 'BENEFITSAVAILED'], {
    description:
      'In any case, with or without underscores (linkingUpdates, LINKING_UPDATES); anything else answers 2014. BENEFITSAVAILED answers 2011: benefits are not supported yet.',
  }),
  startDate: Type.Optional(
    Type.String({ description: 'Only with BENEFITSAVAILED (2015 with LINKINGUPDATES); ignored' }),
  ),
  endDate: Type.Optional(Type.String({ description: 'Only with BENEFITSAVAILED (2015 with LINKINGUPDATES); ignored' })),
  partnerProgramId: Type.Optional(Type.Integer({ minimum: 1, description: 'Only this program' })),
  partnerProgramType: Type.Optional(
    Type.Enum(['EXTERNAL', 'SUPPLEMENTARY'], { description: 'Only programs of this type; in any case' }),
  ),
  limit: Type.Optional(Type.Integer({ minimum: 0, maximum: 10, default: 10, description: 'Programs per page' })),
  offset: Type.Optional(Type.Integer({ minimum: 0, default: 0, description: 'Programs to skip' })),
});

/** The query as it arrives: each parameter a string, or several when it is repeated. */
export type HistoryQueryText = { [K in keyof Static<typeof HistoryQuerySchema>]?: string | string[] };

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
