import { Type, type Static } from 'typebox';
import type { BatchOutcome } from '../../domain/batch/batch-runner.js';
import type { DelinkEntry } from '../../domain/delink/delink-policy.js';
import type { UseCases } from '../../domain/use-cases.js';
import { entryChecker } from './entry-check.js';
import { echoedName, readBatchItem, type SentItem } from './fields.js';
import type { BatchRoute } from './route.js';
import { customerAnswer, warningAnswer, wireStatus } from './answers.js';

/** POST /v2/partnerProgram/deLinkCustomer (SPEC §6): its schemas, its entry reader and its answer. */

export const DelinkEntrySchema = Type.Object({
  partnerProgramName: Type.String({ minLength: 1, description: 'Matched case-insensitively' }),
});

export const DelinkRequestSchema = Type.Object(
  {
    deLinkCustomers: Type.Array(
      Type.Object({
        customer: Type.Ref('CustomerIdentifiers'),
        deLinkFromPartnerPrograms: Type.Array(DelinkEntrySchema),
      }),
      { minItems: 1, maxItems: 50 },
    ),
  },
  { $id: 'DelinkRequest' },
);

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

const checkDelinkEntry = entryChecker(DelinkEntrySchema, [
  { path: '', outcome: 'MALFORMED_ENTRY' },
  { path: '/partnerProgramName', outcome: 'MISSING_PROGRAM_NAME' },
]);

/**
 * Reads one `deLinkCustomers[]` item. Never throws: a malformed item fails alone (SPEC §3a), its
 * customer as 1015 when the customer part is unusable, its program entries as 2002.
 */
export function readDelinkItem(raw: unknown): SentItem<DelinkEntry> {
  const missingList: DelinkEntry = { echoName: '', name: '', failure: 'MISSING_DELINK_LIST' };
  return readBatchItem(raw, 'deLinkFromPartnerPrograms', missingList, readDelinkEntry);
}

function readDelinkEntry(raw: unknown): DelinkEntry {
  const checked = checkDelinkEntry(raw);
  if (!checked.ok) return { echoName: echoedName(raw), name: '', failure: checked.failure };
  return { echoName: checked.value.partnerProgramName, name: checked.value.partnerProgramName };
}

function delinkAnswer(
  outcome: BatchOutcome<DelinkEntry>,
  sent: ReadonlyArray<SentItem<DelinkEntry>>,
): Static<typeof DelinkResponseSchema> {
  return {
    deLinkCustomers: outcome.items.map((item, index) => ({
      customer: customerAnswer(sent[index]!.customer, item.customer),
      deLinkFromPartnerPrograms: item.entries.map(({ entry, outcome }) => ({
        partnerProgramName: entry.echoName,
        partnerDeLinkStatus: wireStatus(outcome),
      })),
    })),
    warnings: outcome.warnings.map(warningAnswer),
  };
}

export function delinkEndpoint(run: UseCases['delinkCustomers']): BatchRoute<DelinkEntry, typeof DelinkResponseSchema> {
  return {
    path: '/v2/partnerProgram/deLinkCustomer',
    endpoint: 'delink',
    operationId: 'deLinkCustomer',
    itemsField: 'deLinkCustomers',
    request: DelinkRequestSchema,
    response: DelinkResponseSchema,
    summary: 'Delink customers from partner programs',
    description:
      'Up to 50 customers, each with any number of programs. Ends the membership (state DELINKED) and cancels a pending relink; an expired SUPPLEMENTARY membership with a pending relink can be delinked.',
    read: readDelinkItem,
    run,
    answer: delinkAnswer,
  };
}
