import { Type, type Static } from 'typebox';
import type { BatchItem, BatchOutcome } from '../../domain/batch/batch-runner.js';
import { parseCustomer } from '../../domain/customers.js';
import type { DelinkEntry } from '../../domain/delink/delink-policy.js';
import type { UseCases } from '../../domain/use-cases.js';
import { isObject } from './fields.js';
import type { BatchRoute } from './route.js';

/** POST /v2/partnerProgram/deLinkCustomer (SPEC §6): its schemas, its entry reader and its answer. */

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

/**
 * Reads one `deLinkCustomers[]` item. Never throws: a malformed item fails alone (SPEC §3a), its
 * customer as 1015 when the customer part is unusable, its program entries as 2002.
 */
export function readDelinkItem(raw: unknown): BatchItem<DelinkEntry> {
  if (!isObject(raw)) return { customer: parseCustomer(undefined), entries: [] };
  const customer = parseCustomer(raw.customer);
  const list = raw.deLinkFromPartnerPrograms;
  if (!Array.isArray(list) || list.length === 0) {
    return { customer, entries: [{ echoName: '', name: '', failure: 'MISSING_DELINK_LIST' }] };
  }
  return { customer, entries: list.map(readDelinkEntry) };
}

function readDelinkEntry(raw: unknown): DelinkEntry {
  if (!isObject(raw)) return { echoName: '', name: '', failure: 'MALFORMED_ENTRY' };
  const name = raw.partnerProgramName;
  if (typeof name !== 'string' || name === '') {
    return { echoName: typeof name === 'string' ? name : '', name: '', failure: 'MISSING_PROGRAM_NAME' };
  }
  return { echoName: name, name };
}

function delinkAnswer(outcome: BatchOutcome<DelinkEntry>): Static<typeof DelinkResponseSchema> {
  return {
    deLinkCustomers: outcome.items.map((item) => ({
      customer: item.customer,
      deLinkFromPartnerPrograms: item.entries.map(({ entry, status }) => ({
        partnerProgramName: entry.echoName,
        partnerDeLinkStatus: status,
      })),
    })),
    warnings: outcome.warnings,
  };
}

export function delinkEndpoint(run: UseCases['delinkCustomers']): BatchRoute<DelinkEntry, typeof DelinkResponseSchema> {
  return {
    path: '/v2/partnerProgram/deLinkCustomer',
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
