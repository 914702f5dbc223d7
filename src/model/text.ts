const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Whether a string can be stored and matched as PostgreSQL text: text cannot hold NUL, and a
 * lone UTF-16 surrogate (`"\ud800"` in JSON) has no UTF-8 form, so the driver would either fail
 * or silently store U+FFFD instead. Such a value fails its own field, never the batch.
 */
export function isStorableText(value: string): boolean {
  return !value.includes('\u0000') && !LONE_SURROGATE.test(value);
}
