import { Type, type Static } from 'typebox';
import type { App } from '../app-instance.js';
import { formatInZone } from '../../domain/dates.js';
import type { LoyaltyProgramListing } from '../../domain/programs.service.js';
import type { UseCases } from '../../domain/use-cases.js';
import type { PartnerProgramRecord, ProgramType } from '../../model/program.js';
import { requireAccess } from '../auth.js';
import { errorAnswer } from '../envelope.js';
import { V2_SECURITY } from '../schemas/common.js';

const Tier = Type.Object({
  tierNumber: Type.Integer({ minimum: 1, description: 'From 1, in order' }),
  tierName: Type.String(),
});

/** The fields before the membership period, in Capillary's order, for a program of `type`. */
const head = <T extends ProgramType>(type: T) => ({
  partnerProgramId: Type.Integer(),
  partnerProgramName: Type.String({ description: 'As configured' }),
  partnerProgramDescription: Type.String({ description: 'As configured; "" when none' }),
  partnerProgramType: Type.Literal(type),
  tierBased: Type.Boolean({ description: 'True when the program has tiers' }),
  partnerProgramTiers: Type.Array(Tier, { description: 'Ordered by tierNumber; empty when not tier-based' }),
});

const tail = {
  pointsExchangeRate: Type.Literal(1),
  active: Type.Boolean({ description: 'False: links answer 2021' }),
  expiryDate: Type.Union([Type.String({ description: "ISO-8601 in the org's timezone" }), Type.Null()], {
    description: 'The program ends here (links after it answer 2020); null when it has no expiry',
  }),
};

// Two shapes rather than an optional field: the document says exactly when membershipPeriodType
// is absent, and each shape serialises in Capillary's field order (an optional property would
// be written after every required one).
const ExternalProgram = Type.Object(
  { ...head('EXTERNAL'), membershipPeriodValue: Type.Literal(0), ...tail },
  { description: 'An EXTERNAL program: no membership period' },
);
const SupplementaryProgram = Type.Object(
  {
    ...head('SUPPLEMENTARY'),
    membershipPeriodType: Type.Union([Type.Literal('DAYS'), Type.Literal('MONTHS')]),
    membershipPeriodValue: Type.Integer({ minimum: 1, description: 'Days or months of one membership period' }),
    ...tail,
  },
  { description: 'A SUPPLEMENTARY program: its membership period' },
);

const OrganizationPrograms = Type.Object(
  {
    data: Type.Array(
      Type.Object({
        programId: Type.Integer({ description: "The loyalty program's id" }),
        programName: Type.String(),
        pointsToCurrencyRatio: Type.Literal(1),
        default: Type.Boolean({ description: "True for the org's lowest loyalty program id" }),
        partnerPrograms: Type.Array(Type.Union([ExternalProgram, SupplementaryProgram]), {
          description: 'By name, compared case-insensitively; inactive and expired programs included',
        }),
      }),
      { description: 'By programId' },
    ),
    warnings: Type.Array(Type.Unknown(), { maxItems: 0 }),
    errors: Type.Array(Type.Unknown(), { maxItems: 0 }),
  },
  { $id: 'OrganizationPrograms' },
);
type OrganizationProgramsBody = Static<typeof OrganizationPrograms>;
type PartnerProgramBody = OrganizationProgramsBody['data'][number]['partnerPrograms'][number];

function partnerProgramAnswer(program: PartnerProgramRecord, zone: string): PartnerProgramBody {
  const head = {
    partnerProgramId: program.id,
    partnerProgramName: program.name,
    partnerProgramDescription: program.description ?? '',
    tierBased: program.tiers.length > 0,
    // Tiers are stored numbered 1..n without gaps (partner-program-tiers.repository.ts).
    partnerProgramTiers: program.tiers.map((tierName, i) => ({ tierNumber: i + 1, tierName })),
  };
  const tail = {
    pointsExchangeRate: 1 as const,
    active: program.active,
    expiryDate: program.expiryDate ? formatInZone(program.expiryDate, zone) : null,
  };
  if (program.type === 'SUPPLEMENTARY' && program.cycle) {
    const { unit, value } = program.cycle;
    const type = 'SUPPLEMENTARY' as const;
    return { ...head, partnerProgramType: type, membershipPeriodType: unit, membershipPeriodValue: value, ...tail };
  }
  return { ...head, partnerProgramType: 'EXTERNAL', membershipPeriodValue: 0, ...tail };
}

function programsAnswer(listings: LoyaltyProgramListing[], zone: string): OrganizationProgramsBody {
  return {
    data: listings.map(({ loyaltyProgram, isDefault, partnerPrograms }) => ({
      programId: loyaltyProgram.id,
      programName: loyaltyProgram.name,
      pointsToCurrencyRatio: 1,
      default: isDefault,
      partnerPrograms: partnerPrograms.map((program) => partnerProgramAnswer(program, zone)),
    })),
    warnings: [],
    errors: [],
  };
}

/** SPEC §7b: Capillary's listing of the org's loyalty programs and their partner programs. */
export function programsRoutes(app: App, { listOrgPrograms }: Pick<UseCases, 'listOrgPrograms'>): void {
  app.addSchema(OrganizationPrograms);
  app.get(
    '/v2/organization/programs',
    {
      onRequest: requireAccess('DEFAULT'),
      schema: {
        operationId: 'listOrganizationPrograms',
        tags: ['programs'],
        summary: "The org's loyalty programs, each with its partner programs and their tiers",
        description:
          "Loyalty programs by id, the lowest one `default`; each partner program once, under its loyalty program, by name, inactive and expired ones included. `membershipPeriodType` is absent and `membershipPeriodValue` 0 on EXTERNAL programs; dates are ISO-8601 in the org's timezone.",
        security: V2_SECURITY,
        response: {
          200: Type.Ref('OrganizationPrograms', { description: 'Every loyalty program of the org' }),
          401: errorAnswer('No credentials, or wrong ones'),
          403: errorAnswer('The credentials lack the DEFAULT access group'),
          429: errorAnswer('Too many failed logins with these credentials; see Retry-After'),
        },
      },
    },
    async (request) => {
      const caller = request.caller!;
      return programsAnswer(await listOrgPrograms(caller), caller.org.timezone);
    },
  );
}
