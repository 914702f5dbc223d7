import type { App } from '../app-instance.js';
import { Type } from 'typebox';
import type { Temporal } from 'temporal-polyfill';
import { formatUtc } from '../../domain/dates.js';
import {
  readActivityType,
  type HistoryPage,
  type HistoryQuery,
  type ProgramHistory,
} from '../../domain/history.service.js';
import { customerOutcomes, historyOutcomes } from '../../domain/outcomes.js';
import type { UseCases } from '../../domain/use-cases.js';
import type { IdentifierName } from '../../model/customer.js';
import { requireAccess } from '../auth.js';
import { V2_SECURITY } from '../schemas/common.js';
import { errorAnswer, sendCodedError } from '../envelope.js';
import { HistoryQuerySchema, HistoryResponseSchema, type HistoryQueryText } from '../schemas/history.schema.js';

/** Capillary documents the plural path; its sample URL uses the singular. Both answer. */
const PATHS = {
  '/v2/partnerProgram/customerActivityHistories': 'customerActivityHistories',
  '/v2/partnerProgram/customerActivityHistory': 'customerActivityHistory',
};
const [MAIN_PATH] = Object.keys(PATHS);

/** The query schema documents the parameters; readHistoryQuery checks them, in its own order and codes. */
const readByHandler = () => () => true;

/** The wire body: the reference's field names, every date in UTC; 2011 in `errors` when the history is empty. */
function historyAnswer(query: HistoryQuery, page: HistoryPage) {
  return {
    pagination: { limit: query.limit, offset: query.offset, total: page.total },
    data: page.programs.map(programAnswer),
    warnings: [] as unknown[],
    errors: page.total === 0 ? [{ ...historyOutcomes.NO_ACTIVITY }] : [],
  };
}

function programAnswer({ row, membership: m, last, activities }: ProgramHistory) {
  const utc = (instant: Temporal.Instant | null) => (instant ? formatUtc(instant) : null);
  return {
    partnerProgramDetails: {
      programName: row.loyaltyProgramName,
      partnerProgramId: m.programId,
      partnerProgramName: row.programName,
      partnerProgramDescription: row.description ?? '',
      partnerTierNumber: m.tierNumber,
      partnerTierName: row.tierName,
      partnerTierExpiryDate: utc(m.tierExpiry),
      partnerMembershipId: m.partnerMembershipId,
      partnerProgramType: m.programType,
      partnerProgramMembershipStartDate: utc(m.start),
      partnerProgramMembershipEndDate: utc(m.end),
      partnerProgramMembershipLastUpdatedDate: formatUtc(last.at),
      partnerProgramMembershipLastUpdatedActivity: last.type,
      benefitsSummary: [] as unknown[],
      linked: m.state === 'LINKED' || m.state === 'SCHEDULED' || m.state === 'ACTIVE',
      tierBased: row.tierBased,
    },
    customerActivityHistory: activities.map((a) => ({ activityType: a.type, activityDate: formatUtc(a.at) })),
  };
}

export function historyRoutes(app: App, { customerActivityHistory }: Pick<UseCases, 'customerActivityHistory'>): void {
  app.addSchema(HistoryResponseSchema);
  for (const [url, operationId] of Object.entries(PATHS)) {
    app.get<{ Querystring: HistoryQueryText }>(
      url,
      {
        onRequest: requireAccess('PARTNER_PROGRAM'),
        validatorCompiler: readByHandler,
        schema: {
          operationId,
          tags: ['partner programs'],
          summary: url === MAIN_PATH ? "A customer's partner-program activity, by program" : `Alias of ${MAIN_PATH}`,
          description:
            'One entry per program the customer has a membership in, most recently changed first; limit, offset and total count programs. Each entry shows the membership as it stands now and its activities, newest first. 2011 (HTTP 200) when there is no activity, 1011 (HTTP 404) for an unknown customer.',
          security: V2_SECURITY,
          querystring: HistoryQuerySchema,
          response: {
            200: Type.Ref('CustomerActivityHistory'),
            400: errorAnswer(
              'A bad parameter (code 400, naming it), a bad or missing activityType (2014), startDate or endDate with LINKINGUPDATES (2015)',
            ),
            401: errorAnswer('No credentials, or wrong ones'),
            403: errorAnswer('The credentials lack the PARTNER_PROGRAM access group'),
            404: errorAnswer('No such customer (code 1011)'),
            429: errorAnswer('Too many failed logins with these credentials; see Retry-After'),
          },
        },
      },
      async (request, reply) => {
        const query = readHistoryQuery(request.query);
        if ('code' in query) return sendCodedError(reply, 400, query.code, query.message);
        const history = await customerActivityHistory(request.caller!, query);
        if (!history) {
          const { code, message } = customerOutcomes.NOT_FOUND;
          return sendCodedError(reply, 404, code, message);
        }
        return historyAnswer(query, history);
      },
    );
  }
}

const IDENTIFIER_NAMES: readonly string[] = ['mobile', 'email', 'externalId', 'id'] satisfies IdentifierName[];

type QueryError = { code: 400 | 2014 | 2015; message: string };
type Parameter = keyof HistoryQueryText;

/** Reads the query parameters in a fixed order; the first bad one answers. */
export function readHistoryQuery(query: HistoryQueryText): HistoryQuery | QueryError {
  const bad = (message: string): QueryError => ({ code: 400, message });
  const repeated = Object.keys(HistoryQuerySchema.properties).find((name) => Array.isArray(query[name as Parameter]));
  if (repeated) return bad(`${repeated} must be given once`);
  const raw = query as { [K in Parameter]?: string };
  // SPEC §3a: an empty string counts as absent.
  const given = (value: string | undefined) => (value === '' ? undefined : value);

  const identifierName = given(raw.identifierName);
  if (!identifierName || !IDENTIFIER_NAMES.includes(identifierName)) {
    return bad('identifierName is required and must be one of mobile, email, externalId, id');
  }
  const identifierValue = given(raw.identifierValue);
  if (!identifierValue) return bad('identifierValue is required');
  if (identifierValue.length > 255) return bad('identifierValue must be at most 255 characters');
  if (identifierName === 'id' && !/^[1-9][0-9]{0,15}$/.test(identifierValue)) {
    return bad('identifierValue must be a positive integer when identifierName is id');
  }
  const activityType = readActivityType(given(raw.activityType));
  if (!activityType) return historyOutcomes.INVALID_ACTIVITY_TYPE;
  if (activityType === 'LINKINGUPDATES' && (given(raw.startDate) || given(raw.endDate))) {
    return historyOutcomes.DATES_NOT_ALLOWED;
  }
  const partnerProgramIdText = given(raw.partnerProgramId);
  const partnerProgramId = partnerProgramIdText === undefined ? undefined : positiveInteger(partnerProgramIdText);
  if (partnerProgramId === null) return bad('partnerProgramId must be a positive integer');
  const typeText = given(raw.partnerProgramType)?.toUpperCase();
  if (typeText !== undefined && typeText !== 'EXTERNAL' && typeText !== 'SUPPLEMENTARY') {
    return bad('partnerProgramType must be EXTERNAL or SUPPLEMENTARY');
  }
  const limit = wholeNumber(given(raw.limit) ?? '10');
  if (limit === null || limit > 10) return bad('limit must be an integer from 0 to 10');
  const offset = wholeNumber(given(raw.offset) ?? '0');
  if (offset === null) return bad('offset must be an integer of 0 or more');
  return {
    identifierName: identifierName as IdentifierName,
    identifierValue,
    activityType,
    partnerProgramId,
    partnerProgramType: typeText,
    limit,
    offset,
  };
}

/** A string of digits within the safe integer range, else null. */
function wholeNumber(text: string): number | null {
  if (!/^[0-9]+$/.test(text)) return null;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : null;
}

function positiveInteger(text: string): number | null {
  const value = wholeNumber(text);
  return value !== null && value > 0 ? value : null;
}
