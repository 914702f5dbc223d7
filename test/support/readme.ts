import { readFileSync } from 'node:fs';

/**
 * The README read as a script: its fenced `sh` blocks in order, each with what it promises.
 * A block preceded by `<!-- readme: not run (reason) -->` is left out. A command's promised
 * answer is a `# {…}` comment line right after it, or a `json` block right after the `sh` block
 * (the answer of that block's last curl).
 */
export interface ReadmeBlock {
  /** 1-based line of the opening fence, for messages. */
  line: number;
  script: string;
  /** Expected answers by the index of the curl call within the block. */
  expected: Map<number, { json: unknown; line: number }>;
}

const FENCE = /^```(\w*)\s*$/;
const SKIP = /^<!--\s*readme:\s*not run\b.*-->\s*$/;
const CURL_CALL = /^\s*(?:[A-Z_]+=\S*\s+)*curl\s/;

export function readmeBlocks(path: string): ReadmeBlock[] {
  const lines = readFileSync(path, 'utf8').split('\n');
  const blocks: ReadmeBlock[] = [];
  let lastShell: ReadmeBlock | undefined;
  let skipNext = false;
  for (let i = 0; i < lines.length; i++) {
    const fence = FENCE.exec(lines[i]!);
    if (!fence) {
      if (SKIP.test(lines[i]!)) skipNext = true;
      else if (lines[i]!.trim() !== '') lastShell = undefined;
      continue;
    }
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    const language = fence[1];
    if (language === 'sh' && !skipNext) {
      const block = shellBlock(start + 1, body);
      blocks.push(block);
      lastShell = block;
    } else if (language === 'json' && lastShell) {
      const calls = countCalls(lastShell.script.split('\n'));
      lastShell.expected.set(calls - 1, { json: parseJson(body.join('\n'), start + 1), line: start + 1 });
      lastShell = undefined;
    } else {
      lastShell = undefined;
    }
    skipNext = false;
  }
  return blocks;
}

function shellBlock(line: number, body: string[]): ReadmeBlock {
  const expected = new Map<number, { json: unknown; line: number }>();
  body.forEach((text, index) => {
    const answer = /^# ([[{].*)$/.exec(text);
    if (answer) {
      const calls = countCalls(body.slice(0, index));
      expected.set(calls - 1, { json: parseJson(answer[1]!, line + index + 1), line: line + index + 1 });
    }
  });
  return { line, script: body.join('\n'), expected };
}

function countCalls(lines: string[]): number {
  return lines.filter((l) => CURL_CALL.test(l)).length;
}

function parseJson(text: string, line: number): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`README line ${line}: the promised answer is not JSON: ${(error as Error).message}`);
  }
}

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const VARYING_NUMBERS = new Set(['id', 'entity', 'ttlSeconds']);

/**
 * Where `actual` departs from the README's `expected`, or [] when it keeps the promise. Instants
 * are compared by form (UTC or the same offset; the clock runs on, so the moment varies), ids by type, and a
 * string written with `…` by what stands before and after it; everything else exactly.
 */
export function differences(expected: unknown, actual: unknown, path = '$', key = ''): string[] {
  if (typeof expected === 'string') {
    if (typeof actual !== 'string') return [`${path}: expected a string, got ${JSON.stringify(actual)}`];
    if (expected.includes('…')) {
      const [head, tail] = expected.split('…') as [string, string];
      return actual.startsWith(head) && actual.endsWith(tail) ? [] : [`${path}: ${actual} does not match ${expected}`];
    }
    if (INSTANT.test(expected)) {
      return instantForm(expected) === instantForm(actual) ? [] : [`${path}: ${actual} is not of the form ${expected}`];
    }
    return expected === actual ? [] : [`${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`];
  }
  if (typeof expected === 'number' && VARYING_NUMBERS.has(key)) {
    return Number.isInteger(actual) ? [] : [`${path}: expected an integer, got ${JSON.stringify(actual)}`];
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return [`${path}: expected an array, got ${JSON.stringify(actual)}`];
    if (actual.length !== expected.length)
      return [`${path}: ${actual.length} items, the README shows ${expected.length}`];
    return expected.flatMap((item, i) => differences(item, actual[i], `${path}[${i}]`));
  }
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) {
      return [`${path}: expected an object, got ${JSON.stringify(actual)}`];
    }
    const want = Object.keys(expected);
    const got = Object.keys(actual);
    const keys = [...new Set([...want, ...got])].filter((k) => !want.includes(k) || !got.includes(k));
    if (keys.length > 0) return [`${path}: keys differ: ${keys.join(', ')}`];
    return want.flatMap((k) =>
      differences((expected as Record<string, unknown>)[k], (actual as Record<string, unknown>)[k], `${path}.${k}`, k),
    );
  }
  return Object.is(expected, actual)
    ? []
    : [`${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`];
}

function instantForm(text: string): string {
  const match = INSTANT.exec(text);
  if (!match) return 'not an instant';
  return match[2]!;
}
