import { CannotRun } from './cannot-run.js';

/** What both bulk commands take from the command line and the environment. */
export interface BulkOptions {
  file: string;
  out: string;
  concurrency: number;
  url: URL;
  env: Readonly<Record<string, string | undefined>>;
}

export const DEFAULT_URL = 'http://127.0.0.1:8080';

/** `--url`, else `PP_URL`, else the default; an http(s) URL or CannotRun. */
export function serviceUrl(option: string | undefined, env: Readonly<Record<string, string | undefined>>): URL {
  const text = option ?? (env.PP_URL || DEFAULT_URL);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CannotRun(`${option === undefined ? 'PP_URL' : '--url'} is not a URL: ${text}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CannotRun(`${option === undefined ? 'PP_URL' : '--url'} must be an http or https URL: ${text}`);
  }
  return url;
}

/**
 * A row's cells fitted to the header: a row with a wrong number of cells is malformed (it fails
 * alone with code 400, SPEC §2a); its cells are kept as far as the columns go, and the message
 * names the counts and any cells beyond the last column.
 */
export function rowCells(cells: readonly string[], width: number): { cells: string[]; malformed?: string } {
  if (cells.length === width) return { cells: [...cells] };
  const fitted = Array.from({ length: width }, (_, i) => cells[i] ?? '');
  const beyond = cells.slice(width);
  const extra =
    beyond.length > 0 ? ` (beyond the last column: ${beyond.map((cell) => JSON.stringify(cell)).join(', ')})` : '';
  return {
    cells: fitted,
    malformed: `Malformed row: ${cells.length} ${cells.length === 1 ? 'cell' : 'cells'}, the header has ${width}${extra}`,
  };
}
