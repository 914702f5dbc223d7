import type { StoredCustomer } from '../model/customer.js';
import { isStorableText } from '../model/text.js';
import type { CustomerOutcome } from './outcomes.js';

/** The identifiers of a request's `customer` part, normalised (SPEC §3a). */
export interface IdentifierQuery {
  id?: number;
  mobile?: string;
  email?: string;
  externalId?: string;
}

const TEXT_IDENTIFIERS = ['mobile', 'email', 'externalId'] as const;
/** Values PostgreSQL text cannot hold, or no stored identifier can equal, match nothing. */
const MAX_IDENTIFIER_LENGTH = 255;

export type ParsedCustomer =
  | { ok: true; query: IdentifierQuery; echo: Record<string, unknown>; unmatchable: boolean }
  | { ok: false; outcome: CustomerOutcome; echo: Record<string, unknown> };

/**
 * Reads the `customer` part of an entry. Strings and integers are accepted and compared as
 * strings; empty strings are absent; `id` must be a positive integer or a string of digits.
 */
export function parseCustomer(raw: unknown): ParsedCustomer {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, outcome: 'NO_IDENTIFIER', echo: {} };
  }
  const input = raw as Record<string, unknown>;
  const query: IdentifierQuery = {};
  const echo: Record<string, unknown> = {};
  let unmatchable = false;
  let unusable = false;

  for (const name of TEXT_IDENTIFIERS) {
    const value = identifierText(input[name]);
    if (value === undefined) {
      if (!isAbsent(input[name])) unusable = true;
      continue;
    }
    echo[name] = value;
    query[name] = value;
    if (value.length > MAX_IDENTIFIER_LENGTH || !isStorableText(value)) unmatchable = true;
  }
  if (!isAbsent(input.id)) {
    const id = identifierText(input.id);
    if (id === undefined || !/^\d+$/.test(id) || /^0+$/.test(id)) {
      unusable = true;
    } else {
      const numeric = Number(id);
      if (Number.isSafeInteger(numeric)) query.id = numeric;
      else unmatchable = true;
    }
  }
  const given = Object.keys(query).length > 0 || unmatchable;
  if (!given) return { ok: false, outcome: unusable ? 'INVALID_IDENTIFIER' : 'NO_IDENTIFIER', echo };
  return { ok: true, query, echo, unmatchable };
}

function isAbsent(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}

function identifierText(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return String(value);
  return undefined;
}

export type Resolution = { ok: true; customer: StoredCustomer } | { ok: false; outcome: CustomerOutcome };

/** Every identifier given must name the same stored customer (SPEC §4). */
export function resolveCustomer(parsed: Extract<ParsedCustomer, { ok: true }>, index: CustomerIndex): Resolution {
  if (parsed.unmatchable) return { ok: false, outcome: 'NOT_FOUND' };
  const matches = [
    parsed.query.id === undefined ? undefined : index.byId.get(parsed.query.id),
    parsed.query.mobile === undefined ? undefined : index.byMobile.get(parsed.query.mobile),
    parsed.query.email === undefined ? undefined : index.byEmail.get(parsed.query.email),
    parsed.query.externalId === undefined ? undefined : index.byExternalId.get(parsed.query.externalId),
  ];
  const asked = [parsed.query.id, parsed.query.mobile, parsed.query.email, parsed.query.externalId];
  const found = matches.filter((m, i) => asked[i] !== undefined && m !== undefined);
  const askedCount = asked.filter((a) => a !== undefined).length;
  if (found.length === 0) return { ok: false, outcome: 'NOT_FOUND' };
  const first = found[0]!;
  if (found.length < askedCount || found.some((m) => m!.id !== first.id)) {
    return { ok: false, outcome: 'IDENTIFIERS_DISAGREE' };
  }
  return { ok: true, customer: first };
}

export interface CustomerIndex {
  byId: Map<number, StoredCustomer>;
  byMobile: Map<string, StoredCustomer>;
  byEmail: Map<string, StoredCustomer>;
  byExternalId: Map<string, StoredCustomer>;
}

export function indexCustomers(customers: Iterable<StoredCustomer>): CustomerIndex {
  const index: CustomerIndex = { byId: new Map(), byMobile: new Map(), byEmail: new Map(), byExternalId: new Map() };
  for (const c of customers) {
    index.byId.set(c.id, c);
    if (c.mobile !== null) index.byMobile.set(c.mobile, c);
    if (c.email !== null) index.byEmail.set(c.email, c);
    if (c.externalId !== null) index.byExternalId.set(c.externalId, c);
  }
  return index;
}

/** The customer echo of SPEC §3a: all four stored identifiers (absent as ""), or what was sent. */
export function customerEcho(customer: StoredCustomer) {
  return {
    id: customer.id,
    mobile: customer.mobile ?? '',
    email: customer.email ?? '',
    externalId: customer.externalId ?? '',
  };
}
