import { CannotRun } from './cannot-run.js';

/**
 * The header of a bulk file: its cells as written, and where each known column is. Names match
 * in any case and any order; an unknown or repeated column is refused rather than ignored, so a
 * misspelt `partnerTierNme` cannot silently drop a value.
 */
export interface Columns<Name extends string> {
  header: string[];
  at: ReadonlyMap<Name, number>;
}

export function matchColumns<Name extends string>(
  header: string[],
  known: readonly Name[],
  file: string,
): Columns<Name> {
  const byLowerCase = new Map(known.map((name) => [name.toLowerCase(), name]));
  const at = new Map<Name, number>();
  header.forEach((cell, index) => {
    const name = byLowerCase.get(cell.trim().toLowerCase());
    if (name === undefined) {
      throw new CannotRun(`${file}: unknown column "${cell}" in the header (known: ${known.join(', ')})`);
    }
    if (at.has(name)) throw new CannotRun(`${file}: column ${name} appears twice in the header`);
    at.set(name, index);
  });
  return { header, at };
}

/** The row's cell of a column, or undefined when the column is absent or the cell empty (SPEC §2a). */
export function cellOf<Name extends string>(columns: Columns<Name>, cells: readonly string[], name: Name) {
  const index = columns.at.get(name);
  const value = index === undefined ? undefined : cells[index];
  return value === undefined || value === '' ? undefined : value;
}
