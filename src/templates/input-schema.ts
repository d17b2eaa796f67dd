/**
 * The input schema of a definition: a JSON Schema (draft 2020-12) checked when the definition is saved and
 * compiled (Ajv) when a run starts. Its `pattern`s and `patternProperties` keys are user patterns: they run on
 * the linear-time engine of `common/safe-regex.ts` and are refused at save time when it cannot express them.
 * Formats are `ajv-formats`' (full mode), each with a length cap.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import type { FormatDefinition } from 'ajv';
import formatsModule from 'ajv-formats';
import { linearRegExpEngine, userPatternProblem } from '../common/safe-regex.js';
import { type Collector, describe, isPlainObject, join, jsonDepth } from './definition-checks.js';
import { MAX_SCHEMA_DEPTH, MAX_SCHEMA_PROPERTIES, SUPPORTED_FORMATS } from './definition-types.js';

// `ajv-formats` is CommonJS: its plugin is the module itself (and its `default`).
const formats = formatsModule.default;

type SupportedFormat = (typeof SUPPORTED_FORMATS)[number];

/** Longest string each format accepts (before its pattern runs, which then sees bounded input). */
const FORMAT_MAX_LENGTH: Record<SupportedFormat, number> = {
  email: 254,
  date: 10,
  time: 64,
  'date-time': 64,
  uri: 2048,
  uuid: 45,
  hostname: 253,
  ipv4: 15,
};

/** `ajv-formats`' full-mode check of `name`, behind its length cap. */
function cappedFormat(name: SupportedFormat): FormatDefinition<string> {
  const format = formats.get(name, 'full');
  let check: (value: string) => boolean;
  if (format instanceof RegExp) check = (value) => format.test(value);
  else if (typeof format === 'function') check = (value) => format(value);
  else if (typeof format === 'object' && format !== null && 'validate' in format) {
    const validate = format.validate;
    check =
      validate instanceof RegExp
        ? (value) => validate.test(value)
        : (value) => (validate as (v: string) => boolean)(value);
  } else throw new Error(`ajv-formats has no format ${name}`);
  const max = FORMAT_MAX_LENGTH[name];
  return { type: 'string', validate: (value: string) => value.length <= max && check(value) };
}

const FORMAT_CHECKS = Object.fromEntries(
  SUPPORTED_FORMATS.map((name) => [name, cappedFormat(name)]),
) as Record<SupportedFormat, FormatDefinition<string>>;

/**
 * Why a regular expression of an input schema (`pattern`, a `patternProperties` key) may not be used, or null:
 * too long, not a valid pattern, or not expressible on the linear-time engine (see `compileUserPattern`).
 */
export function patternProblem(pattern: string): string | null {
  return userPatternProblem(pattern);
}

/** Validates schemas against the 2020-12 meta-schema; never compiles or stores a caller's schema. */
const metaAjv = new Ajv2020({ strict: true, logger: false });

/**
 * Compiles an input schema with the rules of the platform: draft 2020-12, strict keywords, the
 * {@link SUPPORTED_FORMATS}, all errors, patterns on the linear-time engine. A fresh Ajv instance per schema
 * keeps one company's `$id` from ever meeting another's. Throws when the schema does not compile (a pattern the
 * engine refuses included). The run engine validates a run's input with the returned function.
 */
export function compileInputSchema(schema: Record<string, unknown>): ValidateFunction {
  const ajv = new Ajv2020({
    strictSchema: true,
    strictNumbers: true,
    strictRequired: true,
    strictTuples: false,
    strictTypes: false,
    allErrors: true,
    logger: false,
    meta: false,
    validateSchema: false,
    code: { regExp: linearRegExpEngine },
  });
  for (const format of SUPPORTED_FORMATS) ajv.addFormat(format, FORMAT_CHECKS[format]);
  const validate = ajv.compile(schema);
  if ((validate as { $async?: unknown }).$async === true)
    throw new Error('asynchronous schemas ($async) are not supported');
  return validate;
}

const SUBSCHEMA_MAP_KEYWORDS = [
  'properties',
  'patternProperties',
  '$defs',
  'definitions',
  'dependentSchemas',
  'dependencies', // the older spelling, which Ajv still applies
];
const SUBSCHEMA_KEYWORDS = [
  'items',
  'additionalProperties',
  'unevaluatedProperties',
  'unevaluatedItems',
  'contains',
  'propertyNames',
  'not',
  'if',
  'then',
  'else',
];
const SUBSCHEMA_LIST_KEYWORDS = ['prefixItems', 'allOf', 'anyOf', 'oneOf'];

/** The direct subschemas of a schema, each with its path relative to it (`properties.zip`, `anyOf.1`). */
function subschemas(schema: Record<string, unknown>): [string, unknown][] {
  const out: [string, unknown][] = [];
  for (const keyword of SUBSCHEMA_MAP_KEYWORDS) {
    const map = schema[keyword];
    if (isPlainObject(map))
      for (const [name, sub] of Object.entries(map)) out.push([join(keyword, name), sub]);
  }
  for (const keyword of SUBSCHEMA_KEYWORDS) {
    if (schema[keyword] !== undefined) out.push([keyword, schema[keyword]]);
  }
  for (const keyword of SUBSCHEMA_LIST_KEYWORDS) {
    const list = schema[keyword];
    if (Array.isArray(list)) list.forEach((sub: unknown, i) => out.push([join(keyword, i), sub]));
  }
  return out;
}

/** Counts declared properties, following every subschema keyword of draft 2020-12. */
function countDeclaredProperties(schema: unknown): number {
  if (!isPlainObject(schema)) return 0;
  let count = isPlainObject(schema.properties) ? Object.keys(schema.properties).length : 0;
  for (const [, sub] of subschemas(schema)) count += countDeclaredProperties(sub);
  return count;
}

/** Reports every `pattern` and `patternProperties` key of a schema (at any depth) that may not be used. */
function checkPatterns(errors: Collector, field: string, schema: unknown): void {
  if (!isPlainObject(schema)) return;
  if (typeof schema.pattern === 'string') {
    const problem = patternProblem(schema.pattern);
    if (problem) errors.add(join(field, 'pattern'), problem);
  }
  if (isPlainObject(schema.patternProperties)) {
    for (const key of Object.keys(schema.patternProperties)) {
      const problem = patternProblem(key);
      if (problem) errors.add(join(join(field, 'patternProperties'), key), `as a pattern, ${problem}`);
    }
  }
  for (const [path, sub] of subschemas(schema)) checkPatterns(errors, join(field, path), sub);
}

function ajvPathToField(base: string, instancePath: string): string {
  if (instancePath === '') return base;
  const segments = instancePath
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  return segments.reduce(join, base);
}

/**
 * Validates `inputSchema`; returns the names of the top-level properties it declares, or null when
 * the value is not an object at all (then references to `input` are not checked, to avoid noise).
 */
export function checkInputSchema(errors: Collector, field: string, schema: unknown): Set<string> | null {
  if (schema === undefined) {
    errors.add(field, 'is required');
    return null;
  }
  if (!isPlainObject(schema)) {
    errors.add(field, `must be a JSON Schema object, got ${describe(schema)}`);
    return null;
  }
  const declared = new Set(isPlainObject(schema.properties) ? Object.keys(schema.properties) : []);
  if (schema.type !== 'object') errors.add(join(field, 'type'), 'must be "object"');
  const depth = jsonDepth(schema, MAX_SCHEMA_DEPTH + 1);
  if (depth > MAX_SCHEMA_DEPTH) {
    errors.add(field, `must be nested at most ${MAX_SCHEMA_DEPTH} levels deep`);
    return declared;
  }
  const properties = countDeclaredProperties(schema);
  if (properties > MAX_SCHEMA_PROPERTIES) {
    errors.add(field, `must declare at most ${MAX_SCHEMA_PROPERTIES} properties (declares ${properties})`);
    return declared;
  }
  let metaValid: boolean;
  try {
    metaValid = metaAjv.validateSchema(schema) === true;
  } catch (error: unknown) {
    errors.add(join(field, '$schema'), `only JSON Schema draft 2020-12 is supported (${String(error)})`);
    return declared;
  }
  if (!metaValid) {
    for (const issue of metaAjv.errors ?? []) {
      errors.add(
        ajvPathToField(field, issue.instancePath),
        `is not valid JSON Schema: ${issue.message ?? 'invalid'}`,
      );
    }
    return declared;
  }
  const before = errors.count;
  checkPatterns(errors, field, schema);
  if (errors.count > before) return declared;
  try {
    compileInputSchema(schema);
  } catch (error: unknown) {
    errors.add(field, `does not compile: ${error instanceof Error ? error.message : String(error)}`);
  }
  return declared;
}
