import type { StoredCustomer } from '../model/customer.js';
import type { CustomerFailure } from './outcomes.js';

/** The identifiers of a request's `customer` part, normalised (SPEC §3a): read by `http`. */
export interface IdentifierQuery {
  id?: number;
  mobile?: string;
  email?: string;
  externalId?: string;
}

/** A customer part as `http` read it: the identifiers to look up, or why there are none. */
export type ParsedCustomer =
  { ok: true; query: IdentifierQuery; unmatchable: boolean } | { ok: false; outcome: CustomerFailure };

export type Resolution = { ok: true; customer: StoredCustomer } | { ok: false; outcome: CustomerFailure };

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
