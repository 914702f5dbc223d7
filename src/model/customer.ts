import type { Temporal } from 'temporal-polyfill';

/** The identifiers a customer can be looked up by (lookup and history queries). */
export type IdentifierName = 'id' | 'mobile' | 'email' | 'externalId';

export const IDENTIFIER_FIELDS = ['mobile', 'email', 'externalId'] as const;
/** The identifiers stored as text; each is unique within an org. */
export type IdentifierField = (typeof IDENTIFIER_FIELDS)[number];

export interface CustomerIdentifiers {
  id: number;
  mobile: string | null;
  email: string | null;
  externalId: string | null;
}

/** A customer as the membership rules see it: identifiers and loyalty enrolments. */
export interface StoredCustomer extends CustomerIdentifiers {
  loyaltyProgramIds: number[];
}

/** A customer as the admin API shows it. */
export interface CustomerRecord extends StoredCustomer {
  createdAt: Temporal.Instant;
}

/** Every identifier a batch mentions, each kind without repeats: one set-based lookup finds them all. */
export interface IdentifierSet {
  ids: number[];
  mobiles: string[];
  emails: string[];
  externalIds: string[];
}

/** The identifiers one entry gives; text identifiers may arrive as numbers and are compared as text. */
export interface GivenIdentifiers {
  id?: number;
  mobile?: string | number;
  email?: string | number;
  externalId?: string | number;
}

export function identifierSetOf(entries: Iterable<GivenIdentifiers>): IdentifierSet {
  const ids = new Set<number>();
  const texts = { mobile: new Set<string>(), email: new Set<string>(), externalId: new Set<string>() };
  for (const entry of entries) {
    if (entry.id !== undefined) ids.add(entry.id);
    for (const field of IDENTIFIER_FIELDS) {
      const value = entry[field];
      if (value !== undefined) texts[field].add(String(value));
    }
  }
  return {
    ids: [...ids],
    mobiles: [...texts.mobile],
    emails: [...texts.email],
    externalIds: [...texts.externalId],
  };
}
