import { Type, type Static } from 'typebox';
import type { BatchItem, BatchOutcome } from '../../domain/batch/batch-runner.js';
import { parseCustomer } from '../../domain/customers.js';
import type { LinkEntry } from '../../domain/link/link-policy.js';
import type { UseCases } from '../../domain/use-cases.js';
import { isEmpty, isObject, readMembershipId } from './fields.js';
import type { BatchRoute } from './route.js';

/** POST /v2/partnerProgram/linkCustomer (SPEC §4): its schemas, its entry reader and its answer. */

const DateText = (description: string) =>
  Type.String({
    description: `${description} ISO-8601: with an offset (Z, +05:30), without one (read in the org's timezone), or a date only (start of that day in the org's timezone).`,
    examples: ['2027-01-01T00:00:00+05:30'],
  });

export const LinkRequestSchema = Type.Object(
  {
    linkCustomers: Type.Array(
      Type.Object({
        customer: Type.Ref('CustomerIdentifiers'),
        linkToPartnerPrograms: Type.Array(
          Type.Object({
            partnerProgramName: Type.String({ description: 'Matched case-insensitively' }),
            customerPartnerReference: Type.Optional(
              Type.Object({
                partnerMembershipId: Type.Optional(
                  Type.Union([Type.String({ maxLength: 255 }), Type.Integer()], {
                    description: 'Required for a new link unless one is on record from an earlier membership',
                  }),
                ),
                partnerTierName: Type.Optional(Type.String({ description: 'A tier of a tier-based EXTERNAL program' })),
                partnerTierExpiryDate: Type.Optional(DateText('Today or later.')),
                membershipStartDate: Type.Optional(
                  DateText('Today or later. On a linked SUPPLEMENTARY program, schedules a relink.'),
                ),
              }),
            ),
          }),
        ),
      }),
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

/**
 * Reads one `linkCustomers[]` item. Never throws: a malformed item fails alone (SPEC §3a), its
 * customer as 1015 when the customer part is unusable, its program entries as 2002.
 */
export function readLinkItem(raw: unknown): BatchItem<LinkEntry> {
  if (!isObject(raw)) return { customer: parseCustomer(undefined), entries: [] };
  const customer = parseCustomer(raw.customer);
  const list = raw.linkToPartnerPrograms;
  if (!Array.isArray(list) || list.length === 0) {
    return { customer, entries: [{ echoName: '', name: '', failure: 'MISSING_PROGRAM_LIST' }] };
  }
  return { customer, entries: list.map(readLinkEntry) };
}

function readLinkEntry(raw: unknown): LinkEntry {
  if (!isObject(raw)) return { echoName: '', name: '', failure: 'MALFORMED_ENTRY' };
  const name = raw.partnerProgramName;
  if (typeof name !== 'string' || name === '') {
    return { echoName: typeof name === 'string' ? name : '', name: '', failure: 'MISSING_PROGRAM_NAME' };
  }
  const entry: LinkEntry = { echoName: name, name };
  const reference = raw.customerPartnerReference;
  if (reference === undefined || reference === null) return entry;
  if (!isObject(reference)) return { ...entry, failure: 'MALFORMED_REFERENCE' };

  const membershipId = readMembershipId(reference.partnerMembershipId);
  if (membershipId === 'too-long') return { ...entry, failure: 'MEMBERSHIP_ID_TOO_LONG' };
  if (membershipId === 'malformed') return { ...entry, failure: 'MALFORMED_REFERENCE' };
  if (membershipId !== undefined) entry.membershipId = membershipId;

  const tierName = reference.partnerTierName;
  if (typeof tierName === 'string' && tierName !== '') entry.tierName = tierName;
  else if (!isEmpty(tierName)) return { ...entry, failure: 'MALFORMED_REFERENCE' };

  if (!isEmpty(reference.partnerTierExpiryDate)) entry.tierExpiry = reference.partnerTierExpiryDate;
  if (!isEmpty(reference.membershipStartDate)) entry.membershipStart = reference.membershipStartDate;
  return entry;
}

function linkAnswer(outcome: BatchOutcome<LinkEntry>): Static<typeof LinkResponseSchema> {
  return {
    linkCustomers: outcome.items.map((item) => ({
      customer: item.customer,
      linkToPartnerPrograms: item.entries.map(({ entry, status }) => ({
        partnerProgramName: entry.echoName,
        partnerLinkStatus: status,
      })),
    })),
    warnings: outcome.warnings,
  };
}

export function linkEndpoint(run: UseCases['linkCustomers']): BatchRoute<LinkEntry, typeof LinkResponseSchema> {
  return {
    path: '/v2/partnerProgram/linkCustomer',
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
