import { Type, type Static } from 'typebox';
import type { BatchOutcome } from '../../domain/batch/batch-runner.js';
import type { LinkEntry } from '../../domain/link/link-policy.js';
import type { UseCases } from '../../domain/use-cases.js';
import { isStorableText } from '../../model/text.js';
import { entryChecker, isObject, type ShapeError } from './entry-check.js';
import { echoedName, isEmpty, readBatchItem, type SentItem } from './fields.js';
import type { BatchRoute } from './route.js';
import { customerAnswer, warningAnswer, wireStatus } from './answers.js';

/** POST /v2/partnerProgram/linkCustomer (SPEC §4): its schemas, its entry reader and its answer. */

const DateText = (description: string) =>
  Type.String({
    description: `${description} ISO-8601: with an offset (Z, +05:30), without one (read in the org's timezone), or a date only (start of that day in the org's timezone).`,
    examples: ['2027-01-01T00:00:00+05:30'],
  });

const MAX_MEMBERSHIP_ID_LENGTH = 255;

export const LinkEntrySchema = Type.Object({
  partnerProgramName: Type.String({ minLength: 1, description: 'Matched case-insensitively' }),
  customerPartnerReference: Type.Optional(
    Type.Object({
      partnerMembershipId: Type.Optional(
        Type.Union(
          [
            Type.String({ maxLength: MAX_MEMBERSHIP_ID_LENGTH }),
            Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
          ],
          { description: 'Required for a new link unless one is on record from an earlier membership' },
        ),
      ),
      partnerTierName: Type.Optional(Type.String({ description: 'A tier of a tier-based EXTERNAL program' })),
      partnerTierExpiryDate: Type.Optional(DateText('Today or later.')),
      membershipStartDate: Type.Optional(
        DateText('Today or later. On a linked SUPPLEMENTARY program, schedules a relink.'),
      ),
    }),
  ),
});

export const LinkRequestSchema = Type.Object(
  {
    linkCustomers: Type.Array(
      Type.Object({ customer: Type.Ref('CustomerIdentifiers'), linkToPartnerPrograms: Type.Array(LinkEntrySchema) }),
      { minItems: 1, maxItems: 50 },
    ),
  },
  { $id: 'LinkRequest' },
);

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

const REFERENCE = '/customerPartnerReference';
const MEMBERSHIP_ID = `${REFERENCE}/partnerMembershipId`;

/** SPEC §4's order of shape checks; a date that is not a string is left to the rules (2024). */
const checkLinkEntry = entryChecker(
  LinkEntrySchema,
  [
    { path: '', outcome: 'MALFORMED_ENTRY' },
    { path: '/partnerProgramName', outcome: 'MISSING_PROGRAM_NAME' },
    { path: REFERENCE, outcome: 'MALFORMED_REFERENCE' },
    { path: MEMBERSHIP_ID, keyword: 'maxLength', outcome: 'MEMBERSHIP_ID_TOO_LONG' },
    { path: MEMBERSHIP_ID, outcome: 'MALFORMED_REFERENCE' },
    { path: `${REFERENCE}/partnerTierName`, outcome: 'MALFORMED_REFERENCE' },
    { path: `${REFERENCE}/partnerTierExpiryDate`, outcome: 'RULES_DECIDE' },
    { path: `${REFERENCE}/membershipStartDate`, outcome: 'RULES_DECIDE' },
  ],
  membershipIdLimits,
);

/** The membership id must fit PostgreSQL text: 255 UTF-16 units (the schema counts code points), no NUL. */
function membershipIdLimits(value: unknown): ShapeError[] {
  const reference = isObject(value) ? value.customerPartnerReference : undefined;
  const id = isObject(reference) ? reference.partnerMembershipId : undefined;
  if (typeof id !== 'string' || (id.length <= MAX_MEMBERSHIP_ID_LENGTH && isStorableText(id))) return [];
  return [{ instancePath: MEMBERSHIP_ID, keyword: 'maxLength' }];
}

/**
 * Reads one `linkCustomers[]` item. Never throws: a malformed item fails alone (SPEC §3a), its
 * customer as 1015 when the customer part is unusable, its program entries as 2002.
 */
export function readLinkItem(raw: unknown): SentItem<LinkEntry> {
  return readBatchItem(
    raw,
    'linkToPartnerPrograms',
    { echoName: '', name: '', failure: 'MISSING_PROGRAM_LIST' },
    readLinkEntry,
  );
}

function readLinkEntry(raw: unknown): LinkEntry {
  const checked = checkLinkEntry(raw);
  if (!checked.ok) return { echoName: echoedName(raw), name: '', failure: checked.failure };
  const { partnerProgramName: name, customerPartnerReference: reference } = checked.value;
  const entry: LinkEntry = { echoName: name, name };
  if (!reference) return entry;
  const { partnerMembershipId: membershipId, partnerTierName: tierName } = reference;
  if (membershipId !== undefined && membershipId !== '') entry.membershipId = String(membershipId);
  if (tierName) entry.tierName = tierName;
  // The dates go on as sent, strings or not: their format is a rule, checked after the program.
  const { partnerTierExpiryDate, membershipStartDate } = reference as Record<string, unknown>;
  if (!isEmpty(partnerTierExpiryDate)) entry.tierExpiry = partnerTierExpiryDate;
  if (!isEmpty(membershipStartDate)) entry.membershipStart = membershipStartDate;
  return entry;
}

function linkAnswer(
  outcome: BatchOutcome<LinkEntry>,
  sent: ReadonlyArray<SentItem<LinkEntry>>,
): Static<typeof LinkResponseSchema> {
  return {
    linkCustomers: outcome.items.map((item, index) => ({
      customer: customerAnswer(sent[index]!.customer, item.customer),
      linkToPartnerPrograms: item.entries.map(({ entry, outcome }) => ({
        partnerProgramName: entry.echoName,
        partnerLinkStatus: wireStatus(outcome),
      })),
    })),
    warnings: outcome.warnings.map(warningAnswer),
  };
}

export function linkEndpoint(run: UseCases['linkCustomers']): BatchRoute<LinkEntry, typeof LinkResponseSchema> {
  return {
    path: '/v2/partnerProgram/linkCustomer',
    endpoint: 'link',
    operationId: 'linkCustomer',
    itemsField: 'linkCustomers',
    request: LinkRequestSchema,
    response: LinkResponseSchema,
    summary: 'Link customers to partner programs, or schedule a relink',
    description: 'Up to 50 customers, each with any number of programs.',
    read: readLinkItem,
    run,
    answer: linkAnswer,
  };
}
