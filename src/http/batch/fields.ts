import { isStorableText } from '../../model/text.js';

/** Small readers shared by the batch endpoints' entry parsers (SPEC §3a: "" counts as absent). */

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isEmpty(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}

const MAX_MEMBERSHIP_ID_LENGTH = 255;

/** A membership id may be a string or an integer, one PostgreSQL text can hold. */
export function readMembershipId(value: unknown): string | undefined | 'too-long' | 'malformed' {
  if (isEmpty(value)) return undefined;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return String(value);
  if (typeof value !== 'string') return 'malformed';
  if (value.length > MAX_MEMBERSHIP_ID_LENGTH || !isStorableText(value)) return 'too-long';
  return value;
}
