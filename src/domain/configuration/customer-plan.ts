import { IDENTIFIER_FIELDS, type IdentifierField } from '../../model/customer.js';
import type { CustomerDeclaration } from './declarations.js';

/**
 * Plans a bulk customer upsert in memory, entry after entry, against the stored customers the
 * entries can touch: the result is exactly what sequential single upserts would leave, written
 * afterwards with a constant number of statements. Pure: no database, no clock.
 */

type Identifiers = Record<IdentifierField, string | null>;

export interface KnownCustomer extends Identifiers {
  id: number;
}

/** A customer the batch touches: stored (`original` set) or to be created. */
export interface Draft {
  original: KnownCustomer | undefined;
  values: Identifiers;
  enrolIn: Set<number>;
}

export interface CustomerPlan {
  drafts: Draft[];
  /** Stored customers one of whose identifiers another customer of the batch takes over. */
  mustVacate: boolean;
  /** Per entry, in request order: which draft it resolved to and its identifiers right after it. */
  results: { draft: number; values: Identifiers }[];
}

export type PlanOutcome = { ok: true; plan: CustomerPlan } | { ok: false; problems: string[] };

export function planCustomers(
  entries: CustomerDeclaration[],
  known: KnownCustomer[],
  orgLoyaltyPrograms: ReadonlySet<number>,
  path: string,
): PlanOutcome {
  const drafts: Draft[] = known.map((c) => ({
    original: c,
    values: { mobile: c.mobile, email: c.email, externalId: c.externalId },
    enrolIn: new Set(),
  }));
  const byId = new Map(drafts.map((d, i) => [d.original?.id, i]));
  const index = Object.fromEntries(IDENTIFIER_FIELDS.map((f) => [f, new Map<string, number>()])) as Record<
    IdentifierField,
    Map<string, number>
  >;
  drafts.forEach((draft, i) => {
    for (const field of IDENTIFIER_FIELDS) {
      const value = draft.values[field];
      if (value !== null) index[field].set(value, i);
    }
  });
  const problems: string[] = [];
  const results: CustomerPlan['results'] = [];

  entries.forEach((entry, e) => {
    const at = `${path}[${e}]`;
    const given = IDENTIFIER_FIELDS.flatMap((f) => (entry[f] === undefined ? [] : [[f, String(entry[f])] as const]));
    const before = problems.length;
    const matches: [string, number][] = [];
    if (entry.id !== undefined) {
      const found = byId.get(entry.id);
      if (found === undefined) problems.push(`${at}.id: no customer with id ${entry.id}`);
      else matches.push(['id', found]);
    } else if (given.length === 0) {
      problems.push(`${at}: needs at least one of id, mobile, email, externalId`);
    }
    for (const [field, value] of given) {
      const found = index[field].get(value);
      if (found !== undefined) matches.push([field, found]);
    }
    const [first] = matches;
    const other = matches.find(([, draft]) => draft !== first?.[1]);
    if (first && other) problems.push(`${at}: ${first[0]} and ${other[0]} belong to different customers`);
    (entry.loyaltyPrograms ?? []).forEach((id, l) => {
      if (!orgLoyaltyPrograms.has(id))
        problems.push(`${at}.loyaltyPrograms[${l}]: no loyalty program ${id} in this org`);
    });
    if (problems.length > before) return;

    let target = first?.[1];
    if (target === undefined) {
      target =
        drafts.push({
          original: undefined,
          values: { mobile: null, email: null, externalId: null },
          enrolIn: new Set(),
        }) - 1;
    }
    const draft = drafts[target]!;
    for (const [field, value] of given) {
      const previous = draft.values[field];
      if (previous !== null) index[field].delete(previous);
      draft.values[field] = value;
      index[field].set(value, target);
    }
    for (const id of entry.loyaltyPrograms ?? []) draft.enrolIn.add(id);
    results.push({ draft: target, values: { ...draft.values } });
  });

  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, plan: { drafts, mustVacate: mustVacate(drafts), results } };
}

export function isChanged(draft: Draft): boolean {
  return draft.original !== undefined && IDENTIFIER_FIELDS.some((f) => draft.values[f] !== draft.original?.[f]);
}

/**
 * One UPDATE statement checks uniqueness row by row, so a value moving from one stored customer
 * to another (or a swap) could collide mid-statement although the end state is valid. Only then
 * are the changed customers' identifiers cleared first.
 */
function mustVacate(drafts: Draft[]): boolean {
  const changed = drafts.filter(isChanged);
  return IDENTIFIER_FIELDS.some((field) => {
    const released = new Set(changed.map((d) => d.original?.[field] ?? null));
    return changed.some(
      (d) => d.values[field] !== null && d.values[field] !== d.original?.[field] && released.has(d.values[field]),
    );
  });
}
