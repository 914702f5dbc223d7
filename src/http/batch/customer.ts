import { Compile } from 'typebox/compile';
import type { IdentifierQuery, ParsedCustomer } from '../../domain/customers.js';
import type { StoredCustomer } from '../../model/customer.js';
import { isStorableText } from '../../model/text.js';
import { CustomerIdentifiersSchema } from '../schemas/common.js';
import { isObject } from './entry-check.js';

const IDENTIFIERS = ['id', 'mobile', 'email', 'externalId'] as const;
const TEXT_IDENTIFIERS = ['mobile', 'email', 'externalId'] as const;
/** Each identifier is checked against its own schema, so that every unusable one is known. */
const { id, mobile, email, externalId } = CustomerIdentifiersSchema.properties;
const checkIdentifier = {
  id: Compile(id),
  mobile: Compile(mobile),
  email: Compile(email),
  externalId: Compile(externalId),
};
/** Values PostgreSQL text cannot hold, or no stored identifier can equal, match nothing. */
const MAX_IDENTIFIER_LENGTH = 255;

/** The text identifiers as sent (integers as strings), echoed when no customer is found (SPEC §3a). */
export type SentEcho = Partial<Record<(typeof TEXT_IDENTIFIERS)[number], string>>;
export type SentCustomer = ParsedCustomer & { echo: SentEcho };

/**
 * Reads the `customer` part of an entry against its schema, each identifier on its own: one that
 * fails the schema is unusable and the others still count. Empty strings and nulls are absent;
 * integers are compared as strings (SPEC §3a).
 */
export function parseCustomer(raw: unknown): SentCustomer {
  if (!isObject(raw)) return { ok: false, outcome: 'NO_IDENTIFIER', echo: {} };
  const part = Object.fromEntries(Object.entries(raw).filter(([, value]) => value !== null && value !== ''));
  const failed = new Set(
    IDENTIFIERS.filter((name) => part[name] !== undefined && !checkIdentifier[name].Check(part[name])),
  );
  const usable = (name: keyof IdentifierQuery) => part[name] !== undefined && !failed.has(name);
  const query: IdentifierQuery = {};
  const echo: SentEcho = {};
  let unmatchable = false;
  for (const name of TEXT_IDENTIFIERS) {
    if (!usable(name)) continue;
    const value = String(part[name]);
    echo[name] = value;
    query[name] = value;
    if (value.length > MAX_IDENTIFIER_LENGTH || !isStorableText(value)) unmatchable = true;
  }
  if (usable('id')) {
    const id = Number(part.id);
    if (Number.isSafeInteger(id)) query.id = id;
    else unmatchable = true;
  }
  if (Object.keys(query).length > 0 || unmatchable) return { ok: true, query, echo, unmatchable };
  return { ok: false, outcome: failed.size > 0 ? 'INVALID_IDENTIFIER' : 'NO_IDENTIFIER', echo };
}

/** The customer echo of SPEC §3a when found: all four stored identifiers, an absent one as "". */
export function storedCustomerEcho(customer: StoredCustomer) {
  return {
    id: customer.id,
    mobile: customer.mobile ?? '',
    email: customer.email ?? '',
    externalId: customer.externalId ?? '',
  };
}
