import { Type, type Static } from 'typebox';
import type { BatchItem, BatchOutcome } from '../../domain/batch/batch-runner.js';
import { parseCustomer } from '../../domain/customers.js';
import type { UpdateEntry } from '../../domain/update/update-policy.js';
import type { UseCases } from '../../domain/use-cases.js';
import { isEmpty, isObject } from './fields.js';
import type { BatchRoute } from './route.js';

/** POST /v2/partnerProgram/customerPartnerProgramUpdate (SPEC §5): its schemas, its entry reader and its answer. */

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

/**
 * Reads one `customersPartnerUpdates[]` item. Never throws: a malformed item fails alone (SPEC
 * §3a), its customer as 1015 when the customer part is unusable, its program entries as 2002.
 */
export function readUpdateItem(raw: unknown): BatchItem<UpdateEntry> {
  if (!isObject(raw)) return { customer: parseCustomer(undefined), entries: [] };
  const customer = parseCustomer(raw.customer);
  const list = raw.partnerProgramUpdates;
  if (!Array.isArray(list) || list.length === 0) {
    return { customer, entries: [{ echoName: '', name: '', echoType: '', failure: 'MISSING_UPDATE_LIST' }] };
  }
  return { customer, entries: list.map(readUpdateEntry) };
}

function readUpdateEntry(raw: unknown): UpdateEntry {
  if (!isObject(raw)) return { echoName: '', name: '', echoType: '', failure: 'MALFORMED_ENTRY' };
  const type = raw.updateType;
  const echoType = typeof type === 'string' ? type : '';
  const name = raw.partnerProgramName;
  if (typeof name !== 'string' || name === '') {
    return { echoName: typeof name === 'string' ? name : '', name: '', echoType, failure: 'MISSING_PROGRAM_NAME' };
  }
  // A missing or non-string updateType is not a shape failure here: SPEC §5 checks the program
  // (2006) before the update type, so the policy answers it in that order.
  const entry: UpdateEntry = { echoName: name, name, echoType };
  if (echoType !== '') entry.updateType = echoType;

  const details = raw.updateDetails;
  if (details === undefined || details === null) return entry;
  if (!isObject(details)) return { ...entry, failure: 'MALFORMED_UPDATE_DETAILS' };
  const { updatedTierName, updatedTierExpiryDate } = details;
  if (!isEmpty(updatedTierName) && typeof updatedTierName !== 'string')
    return { ...entry, failure: 'MALFORMED_UPDATE_DETAILS' };
  if (!isEmpty(updatedTierExpiryDate) && typeof updatedTierExpiryDate !== 'string') {
    return { ...entry, failure: 'MALFORMED_UPDATE_DETAILS' };
  }
  if (typeof updatedTierName === 'string' && updatedTierName !== '') entry.tierName = updatedTierName;
  if (typeof updatedTierExpiryDate === 'string' && updatedTierExpiryDate !== '')
    entry.tierExpiry = updatedTierExpiryDate;
  return entry;
}

function updateAnswer(outcome: BatchOutcome<UpdateEntry>): Static<typeof UpdateResponseSchema> {
  return {
    customersPartnerUpdates: outcome.items.map((item) => ({
      customer: item.customer,
      partnerProgramUpdates: item.entries.map(({ entry, status }) => ({
        partnerProgramName: entry.echoName,
        updateType: entry.echoType,
        updateStatus: status,
      })),
    })),
    warnings: outcome.warnings,
  };
}

export function updateEndpoint(run: UseCases['updateCustomers']): BatchRoute<UpdateEntry, typeof UpdateResponseSchema> {
  return {
    path: '/v2/partnerProgram/customerPartnerProgramUpdate',
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
