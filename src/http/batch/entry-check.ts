import type { Static, TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import type { EntryOutcome } from '../../domain/outcomes.js';

/** A schema error as TypeBox reports it, or as a rule TypeBox cannot express reports it. */
export interface ShapeError {
  instancePath: string;
  keyword: string;
}

/**
 * One line of an entry's error map: a schema error at `path` (of `keyword`, when given) is the
 * entry's `outcome`, or `RULES_DECIDE` when the value is left for the rules to judge in SPEC's
 * order (a date that is not a string is 2024 only after the program was checked).
 */
export interface ErrorMapLine {
  path: string;
  keyword?: string;
  outcome: EntryOutcome | 'RULES_DECIDE';
}

export type CheckedEntry<T> = { ok: true; value: T } | { ok: false; failure: EntryOutcome };

/**
 * Compiles the schema of one batch entry into its checker. `null` counts as absent (SPEC §3a), so
 * null properties are dropped before the check. The error map is ordered as SPEC orders the
 * checks: the first line that names one of the errors decides the entry. An error no line names
 * is a malformed entry. `extraErrors` reports the rules a schema cannot state (a length in UTF-16
 * units, text PostgreSQL can store) as errors, so that the map orders them with the rest.
 * TypeBox reports at most 8 errors (its `maxErrors`), in the schema's order; an entry of these
 * schemas has at most 7, and the map follows the schema's order, so none that decides is lost.
 */
export function entryChecker<T extends TSchema>(
  schema: T,
  errorMap: readonly ErrorMapLine[],
  extraErrors: (value: unknown) => ShapeError[] = () => [],
): (raw: unknown) => CheckedEntry<Static<T>> {
  const compiled = Compile(schema);
  return (raw) => {
    const value = withoutNulls(raw);
    const errors = [
      ...(compiled.Check(value) ? [] : [...compiled.Errors(value)].flatMap(perProperty)),
      ...extraErrors(value),
    ];
    const unmapped = new Set(errors);
    for (const line of errorMap) {
      const matched = errors.filter(
        (e) => e.instancePath === line.path && (!line.keyword || e.keyword === line.keyword),
      );
      if (matched.length === 0) continue;
      if (line.outcome !== 'RULES_DECIDE') return { ok: false, failure: line.outcome };
      for (const error of matched) unmapped.delete(error);
    }
    if (unmapped.size > 0) return { ok: false, failure: 'MALFORMED_ENTRY' };
    return { ok: true, value: value as Static<T> };
  };
}

/** A `required` error names several properties at the object's path: one error per property instead. */
function perProperty(error: ShapeError & { params?: unknown }): ShapeError[] {
  const required = (error.params as { requiredProperties?: string[] } | undefined)?.requiredProperties;
  if (error.keyword !== 'required' || !required) return [error];
  return required.map((name) => ({ instancePath: `${error.instancePath}/${name}`, keyword: 'required' }));
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A copy of `value` without null properties, in nested objects too (arrays are kept as sent). */
export function withoutNulls(value: unknown): unknown {
  if (!isObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value).flatMap(([key, field]) => (field === null ? [] : [[key, withoutNulls(field)]])),
  );
}
