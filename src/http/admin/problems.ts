import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { KEY_RULES } from './schemas.js';

const MAX_PROBLEMS = 20;

/**
 * The problems of a request part that its TypeBox schema refuses, each named by its path
 * (`customers[2].email: must be string`), at most MAX_PROBLEMS of them. Two say what to send
 * rather than which check failed: a value outside an enum or a union of literals lists the
 * values, and a key that an object's patterns do not admit names the rule (KEY_RULES).
 */
export function problemsOf(schema: TSchema, value: unknown, context: string): string[] {
  const problems = new Set<string>();
  for (const error of Compile(schema).Errors(value)) {
    for (const problem of describe(error, schema, context)) problems.add(problem);
    if (problems.size >= MAX_PROBLEMS) break;
  }
  return [...problems].slice(0, MAX_PROBLEMS);
}

type SchemaError = { keyword: string; instancePath: string; schemaPath: string; params: object; message: string };

function describe(error: SchemaError, schema: TSchema, context: string): string[] {
  // TypeBox reports a key no pattern admits twice: `false` for the key, then the object's list.
  if (error.keyword === 'boolean' && error.schemaPath.endsWith('/additionalProperties')) {
    const rule = keyRuleOf(schema, error.schemaPath.slice(0, -'/additionalProperties'.length));
    if (rule) return [`${pathOf(context, error.instancePath)}: ${rule}`];
  }
  // A union of literals fails as each literal's `const`, listed above, then as the union itself.
  if (error.keyword === 'anyOf' && isUnionOfLiterals(schemaAt(schema, `${error.schemaPath}/anyOf`))) return [];
  const allowed = allowedValuesOf(error, schema);
  if (allowed) return [`${pathOf(context, error.instancePath)}: must be one of ${allowed.join(', ')}`];
  if (error.keyword === 'additionalProperties') {
    const rule = keyRuleOf(schema, error.schemaPath);
    const keys = (error.params as { additionalProperties?: string[] }).additionalProperties ?? [];
    if (rule) return keys.map((key) => `${pathOf(context, `${error.instancePath}/${key}`)}: ${rule}`);
  }
  return [`${pathOf(context, error.instancePath)}: ${error.message}`];
}

/** The values of an enum, or of a union of literals (TypeBox reports each literal's `const` failing). */
function allowedValuesOf(error: SchemaError, schema: TSchema): unknown[] | undefined {
  if (error.keyword === 'enum') return (error.params as { allowedValues?: unknown[] }).allowedValues;
  if (error.keyword !== 'const' || !/\/anyOf\/\d+$/.test(error.schemaPath)) return undefined;
  const branches = schemaAt(schema, error.schemaPath.replace(/\/\d+$/, ''));
  return isUnionOfLiterals(branches) ? branches.map((branch) => branch.const) : undefined;
}

function isUnionOfLiterals(branches: unknown): branches is Array<{ const: unknown }> {
  return Array.isArray(branches) && branches.every((branch) => typeof branch === 'object' && 'const' in branch);
}

/** `config keys are … (^[A-Z][A-Z0-9_]*$)` for the object at `schemaPath`, when its keys follow patterns. */
function keyRuleOf(schema: TSchema, schemaPath: string): string | undefined {
  const object = schemaAt(schema, schemaPath) as { patternProperties?: Record<string, unknown> } | undefined;
  const patterns = Object.keys(object?.patternProperties ?? {});
  if (patterns.length === 0) return undefined;
  const rules = patterns.map((pattern) => `${KEY_RULES[pattern] ?? 'keys must match'} (${pattern})`);
  return rules.join('; or ');
}

/** `/customers/2/email` → `customers[2].email`; the root is the request part (`body`). */
function pathOf(context: string, pointer: string): string {
  const path = pointer
    .split('/')
    .slice(1)
    .map((part) => (/^\d+$/.test(part) ? `[${part}]` : `.${unescape(part)}`))
    .join('');
  return path.replace(/^\./, '') || context;
}

/** The part of `schema` at a JSON Pointer fragment (`#/properties/configs`). */
function schemaAt(schema: TSchema, schemaPath: string): unknown {
  return schemaPath
    .split('/')
    .slice(1)
    .reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[unescape(part)], schema);
}

/** JSON Pointer escapes (RFC 6901). */
const unescape = (part: string) => part.replaceAll('~1', '/').replaceAll('~0', '~');
