import { Type, type Static } from 'typebox';
import type { BatchOutcome } from '../../domain/batch/batch-runner.js';
import type { UpdateEntry } from '../../domain/update/update-policy.js';
import type { UseCases } from '../../domain/use-cases.js';
import { entryChecker, isObject } from './entry-check.js';
import { echoedName, readBatchItem, type SentItem } from './fields.js';
import type { BatchRoute } from './route.js';
import { customerAnswer, warningAnswer, wireStatus } from './answers.js';

/** POST /v2/partnerProgram/customerPartnerProgramUpdate (SPEC §5): its schemas, its entry reader and its answer. */

export const UpdateEntrySchema = Type.Object({
  partnerProgramName: Type.String({ minLength: 1, description: 'Matched case-insensitively' }),
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
});

export const UpdateRequestSchema = Type.Object(
  {
    customersPartnerUpdates: Type.Array(
      Type.Object({ customer: Type.Ref('CustomerIdentifiers'), partnerProgramUpdates: Type.Array(UpdateEntrySchema) }),
      { minItems: 1, maxItems: 50 },
    ),
  },
  { $id: 'UpdateRequest' },
);

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

const DETAILS = '/updateDetails';

/**
 * SPEC §5's order of shape checks. A missing or non-string updateType is not a shape failure:
 * SPEC §5 checks the program (2006) before the update type, so the rules answer it in that order.
 */
const checkUpdateEntry = entryChecker(UpdateEntrySchema, [
  { path: '', outcome: 'MALFORMED_ENTRY' },
  { path: '/partnerProgramName', outcome: 'MISSING_PROGRAM_NAME' },
  { path: '/updateType', outcome: 'RULES_DECIDE' },
  { path: DETAILS, outcome: 'MALFORMED_UPDATE_DETAILS' },
  { path: `${DETAILS}/updatedTierName`, outcome: 'MALFORMED_UPDATE_DETAILS' },
  { path: `${DETAILS}/updatedTierExpiryDate`, outcome: 'MALFORMED_UPDATE_DETAILS' },
]);

/**
 * Reads one `customersPartnerUpdates[]` item. Never throws: a malformed item fails alone (SPEC
 * §3a), its customer as 1015 when the customer part is unusable, its program entries as 2002.
 */
export function readUpdateItem(raw: unknown): SentItem<UpdateEntry> {
  const missingList: UpdateEntry = { echoName: '', name: '', echoType: '', failure: 'MISSING_UPDATE_LIST' };
  return readBatchItem(raw, 'partnerProgramUpdates', missingList, readUpdateEntry);
}

function readUpdateEntry(raw: unknown): UpdateEntry {
  const type = isObject(raw) ? raw.updateType : undefined;
  const echoType = typeof type === 'string' ? type : '';
  const checked = checkUpdateEntry(raw);
  if (!checked.ok) return { echoName: echoedName(raw), name: '', echoType, failure: checked.failure };
  const { partnerProgramName: name, updateDetails: details } = checked.value;
  const entry: UpdateEntry = { echoName: name, name, echoType };
  if (echoType !== '') entry.updateType = echoType;
  if (details?.updatedTierName) entry.tierName = details.updatedTierName;
  if (details?.updatedTierExpiryDate) entry.tierExpiry = details.updatedTierExpiryDate;
  return entry;
}

function updateAnswer(
  outcome: BatchOutcome<UpdateEntry>,
  sent: ReadonlyArray<SentItem<UpdateEntry>>,
): Static<typeof UpdateResponseSchema> {
  return {
    customersPartnerUpdates: outcome.items.map((item, index) => ({
      customer: customerAnswer(sent[index]!.customer, item.customer),
      partnerProgramUpdates: item.entries.map(({ entry, outcome }) => ({
        partnerProgramName: entry.echoName,
        updateType: entry.echoType,
        updateStatus: wireStatus(outcome),
      })),
    })),
    warnings: outcome.warnings.map(warningAnswer),
  };
}

export function updateEndpoint(run: UseCases['updateCustomers']): BatchRoute<UpdateEntry, typeof UpdateResponseSchema> {
  return {
    path: '/v2/partnerProgram/customerPartnerProgramUpdate',
    endpoint: 'update',
    operationId: 'customerPartnerProgramUpdate',
    itemsField: 'customersPartnerUpdates',
    request: UpdateRequestSchema,
    response: UpdateResponseSchema,
    summary: "Upgrade, downgrade, renew or update a linked customer's partner tier, or cancel a pending relink",
    description:
      'Up to 50 customers, each with any number of program updates. updateType is one of UPGRADE, DOWNGRADE, RENEW, UPDATE (tier-based programs only) or MEMBERSHIP_RELINKING_CANCELLED (a pending SUPPLEMENTARY relink).',
    read: readUpdateItem,
    run,
    answer: updateAnswer,
  };
}
