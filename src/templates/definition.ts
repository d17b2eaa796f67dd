/**
 * The template definition format, shared by the governed catalog and by each company's drafts,
 * and its pure validator. No I/O, no Nest, no database: callers (the templates module, the drafts
 * module, the run engine) decide what to do with the result.
 */
import { Ajv2020, type Options as AjvOptions, type ValidateFunction } from 'ajv/dist/2020.js';
import safeRegex from 'safe-regex2';
import { ROLES, type Role } from '../authz/roles.js';

// ---------------------------------------------------------------------------------------------
// Limits and vocabularies
// ---------------------------------------------------------------------------------------------

export const CATEGORIES = [
  'finance',
  'hr',
  'it-access',
  'procurement',
  'security',
  'customer-operations',
  'legal',
  'sales',
  'engineering',
  'facilities',
] as const;
export type Category = (typeof CATEGORIES)[number];

export const STEP_KINDS = ['tool', 'approval'] as const;
export type StepKind = (typeof STEP_KINDS)[number];

/** Roles an approval step may require (the company roles, strongest first). */
export const APPROVAL_ROLES: readonly Role[] = ROLES;

export const MAX_STEPS = 50;
/** Serialized (UTF-8 JSON) size of a whole definition. */
export const MAX_DEFINITION_BYTES = 256 * 1024;
/** Nesting depth of a whole definition; the root object is depth 1. */
export const MAX_DEPTH = 32;
/** Nesting depth of `inputSchema` as JSON; the schema object itself is depth 1. */
export const MAX_SCHEMA_DEPTH = 10;
/** Total number of declared properties (every `properties` map, at any level) in `inputSchema`. */
export const MAX_SCHEMA_PROPERTIES = 100;
/** At most this many errors are reported; the rest are summarised in one last entry. */
export const MAX_ERRORS = 100;

export const MAX_KEY_LENGTH = 100;
export const MAX_TOOL_ID_LENGTH = 100;
export const MAX_NAME_LENGTH = 200;
export const MAX_DESCRIPTION_LENGTH = 2000;
export const MAX_PROMPT_LENGTH = 1000;
/** Length of a `pattern` (or `patternProperties` key) in an input schema. */
export const MAX_PATTERN_LENGTH = 200;
export const TIMEOUT_MS_RANGE = { min: 100, max: 60_000 } as const;
export const RETRIES_RANGE = { min: 0, max: 5 } as const;

export const KEY_PATTERN = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+$/;
export const STEP_ID_PATTERN = /^[a-z][a-z0-9-]{0,62}$/;
export const TOOL_ID_PATTERN = /^[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)+$/;

/** String formats that an `inputSchema` may use (any other `format` is a compile error). */
export const SUPPORTED_FORMATS = [
  'email',
  'date',
  'time',
  'date-time',
  'uri',
  'uuid',
  'hostname',
  'ipv4',
] as const;

// ---------------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------------

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export interface ToolStep {
  id: string;
  kind: 'tool';
  name: string;
  /** The tool a connector of the running company is bound to, e.g. `erp.vendor.lookup`. */
  toolId: string;
  /** Arguments of the call; strings may hold `{{input.…}}` / `{{steps.<id>.output…}}` references. */
  input?: JsonObject;
  timeoutMs?: number;
  retries?: number;
}

export interface ApprovalStep {
  id: string;
  kind: 'approval';
  name: string;
  /** The weakest company role allowed to give the verdict. */
  minRole: Role;
  /** Shown to the approver; may hold references. */
  prompt: string;
}

export type TemplateStep = ToolStep | ApprovalStep;

export interface TemplateDefinition {
  key: string;
  version: number;
  name: string;
  description: string;
  category: Category;
  /** A JSON Schema (draft 2020-12) of `type: "object"` describing a run's input. */
  inputSchema: JsonObject;
  steps: TemplateStep[];
}

/** A company draft: the server assigns `key` and `version`. */
export type DraftDefinition = Omit<TemplateDefinition, 'key' | 'version'> &
  Partial<Pick<TemplateDefinition, 'key' | 'version'>>;

export interface FieldError {
  /** Dotted path from the root of the definition (`steps.2.kind`); `''` is the definition itself. */
  field: string;
  message: string;
}

export type DefinitionValidation<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

export interface ValidateOptions {
  /** Default true. False (drafts) makes `key` and `version` optional. */
  requireKey?: boolean;
}

/** A parsed `{{…}}` reference. */
export type ParsedReference =
  { root: 'input'; path: string[] } | { root: 'steps'; stepId: string; path: string[] };

export interface StepReference {
  /** Where the reference sits, relative to the step (`input.note`, `prompt`). */
  field: string;
  /** The text between the braces, trimmed (`input.vendorId`). */
  expression: string;
  /** Null when the expression is not a well-formed reference. */
  parsed: ParsedReference | null;
}

export interface InterpolationScope {
  input: unknown;
  steps: Record<string, { output: unknown }>;
}

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function join(base: string, segment: string | number): string {
  return base === '' ? String(segment) : `${base}.${segment}`;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

class Collector {
  readonly errors: FieldError[] = [];
  add(field: string, message: string): void {
    this.errors.push({ field, message });
  }
  get count(): number {
    return this.errors.length;
  }
  result(): FieldError[] {
    if (this.errors.length <= MAX_ERRORS) return this.errors;
    const hidden = this.errors.length - MAX_ERRORS;
    return [
      ...this.errors.slice(0, MAX_ERRORS),
      { field: '', message: `${hidden} more error${hidden === 1 ? '' : 's'} not shown` },
    ];
  }
}

/**
 * Checks a required or optional string with a length range (non-blank). Returns the string when valid.
 */
function checkText(
  errors: Collector,
  field: string,
  value: unknown,
  max: number,
  required: boolean,
): string | undefined {
  if (value === undefined) {
    if (required) errors.add(field, 'is required');
    return undefined;
  }
  if (typeof value !== 'string') {
    errors.add(field, `must be a string, got ${describe(value)}`);
    return undefined;
  }
  if (value.trim().length === 0) {
    errors.add(field, 'must not be empty');
    return undefined;
  }
  if (value.length > max) {
    errors.add(field, `must be at most ${max} characters (got ${value.length})`);
    return undefined;
  }
  return value;
}

function checkInteger(
  errors: Collector,
  field: string,
  value: unknown,
  range: { min: number; max: number },
  required: boolean,
): void {
  if (value === undefined) {
    if (required) errors.add(field, 'is required');
    return;
  }
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    errors.add(field, `must be an integer, got ${describe(value)}`);
    return;
  }
  if (value < range.min || value > range.max) {
    errors.add(
      field,
      range.max === Number.MAX_SAFE_INTEGER
        ? `must be at least ${range.min}`
        : `must be between ${range.min} and ${range.max}`,
    );
  }
}

function checkPattern(
  errors: Collector,
  field: string,
  value: unknown,
  pattern: RegExp,
  max: number,
  what: string,
  required: boolean,
): string | undefined {
  if (value === undefined) {
    if (required) errors.add(field, 'is required');
    return undefined;
  }
  if (typeof value !== 'string') {
    errors.add(field, `must be a string, got ${describe(value)}`);
    return undefined;
  }
  if (value.length > max) {
    errors.add(field, `must be at most ${max} characters (got ${value.length})`);
    return undefined;
  }
  if (!pattern.test(value)) {
    errors.add(field, `must be ${what} matching ${pattern.source}`);
    return undefined;
  }
  return value;
}

function checkOneOf<T extends string>(
  errors: Collector,
  field: string,
  value: unknown,
  allowed: readonly T[],
): T | undefined {
  if (value === undefined) {
    errors.add(field, 'is required');
    return undefined;
  }
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  const got = typeof value === 'string' ? JSON.stringify(value.slice(0, 100)) : describe(value);
  errors.add(field, `must be one of ${allowed.join(', ')}, got ${got}`);
  return undefined;
}

function checkUnknownFields(
  errors: Collector,
  base: string,
  value: Record<string, unknown>,
  allowed: readonly string[],
  context: string,
): void {
  for (const name of Object.keys(value)) {
    if (!allowed.includes(name)) errors.add(join(base, name), `unknown field on ${context}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Envelope: depth and size, checked before anything else
// ---------------------------------------------------------------------------------------------

type EnvelopeVerdict = 'ok' | 'too-deep' | 'too-large';

/**
 * Walks the value, stopping as soon as it is nested deeper than `maxDepth` (so a cyclic or absurdly
 * deep value cannot overflow the stack) or holds more content than `maxBytes` could serialize to.
 */
function inspectEnvelope(value: unknown, maxDepth: number, maxBytes: number): EnvelopeVerdict {
  let budget = maxBytes;
  const visit = (node: unknown, depth: number): EnvelopeVerdict => {
    budget -= 1;
    if (typeof node === 'string') budget -= node.length;
    if (budget < 0) return 'too-large';
    if (typeof node !== 'object' || node === null) return 'ok';
    if (depth + 1 > maxDepth) return 'too-deep';
    const children: unknown[] = Array.isArray(node) ? node : Object.entries(node).flat();
    for (const child of children) {
      const verdict = visit(child, depth + 1);
      if (verdict !== 'ok') return verdict;
    }
    return 'ok';
  };
  return visit(value, 0);
}

/** Nesting depth of a JSON value: a primitive is 0, `{}` is 1, `{"a":[]}` is 2. Stops past `limit`. */
function jsonDepth(value: unknown, limit: number): number {
  if (typeof value !== 'object' || value === null) return 0;
  if (limit <= 0) return 1;
  let deepest = 0;
  const children: unknown[] = Array.isArray(value) ? value : Object.values(value);
  for (const child of children) {
    deepest = Math.max(deepest, jsonDepth(child, limit - 1));
    if (deepest >= limit) break;
  }
  return 1 + deepest;
}

// ---------------------------------------------------------------------------------------------
// Input schema: Ajv (draft 2020-12)
// ---------------------------------------------------------------------------------------------

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME_RE = /^([01]\d|2[0-3]):([0-5]\d):([0-5]\d|60)(\.\d+)?(z|[+-]([01]\d|2[0-3]):[0-5]\d)$/i;
const EMAIL_RE = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;
const URI_RE = /^[a-z][a-z0-9+.-]*:[^\s]+$/i;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HOSTNAME_RE =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;
const IPV4_RE = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

function isDate(value: string): boolean {
  const match = DATE_RE.exec(value);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

function isDateTime(value: string): boolean {
  const [date, time, ...rest] = value.split(/[tT ]/);
  return rest.length === 0 && date !== undefined && time !== undefined && isDate(date) && TIME_RE.test(time);
}

const FORMAT_CHECKS: Record<(typeof SUPPORTED_FORMATS)[number], (value: string) => boolean> = {
  email: (v) => v.length <= 254 && EMAIL_RE.test(v),
  date: isDate,
  time: (v) => TIME_RE.test(v),
  'date-time': isDateTime,
  uri: (v) => v.length <= 2048 && URI_RE.test(v),
  uuid: (v) => UUID_RE.test(v),
  hostname: (v) => HOSTNAME_RE.test(v),
  ipv4: (v) => IPV4_RE.test(v),
};

/**
 * The pattern as `safe-regex2` should judge it: an optional group `(…)?` rewritten as the equivalent alternative
 * `(…|)`. The checker counts `?` as a repetition like `+`, so an optional group would count as nesting everything
 * inside it (`(-[A-Z0-9]{1,3})?` like `(a+)+`); a group taken at most once multiplies no backtracking.
 * Only for the check, never for matching. Escapes and character classes are skipped as written.
 */
function optionalGroupsAsAlternatives(pattern: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      out += pattern.slice(i, i + 2);
      i++;
    } else if (inClass) {
      if (c === ']') inClass = false;
      out += c;
    } else if (c === '[') {
      inClass = true;
      out += c;
    } else if (c === ')' && pattern[i + 1] === '?') {
      out += '|)';
      i += pattern[i + 2] === '?' ? 2 : 1; // a lazy `??` too
    } else {
      out += c;
    }
  }
  return out;
}

/**
 * Why a regular expression of an input schema (`pattern`, a `patternProperties` key) may not be used, or null.
 * Ajv matches patterns with JavaScript's backtracking engine, on the API's event loop, against input a caller
 * chooses: a pattern with nested or ambiguous repetition (`^(a+)+$`) makes a short input take seconds or years to
 * match. `safe-regex2` refuses a star height above one and more than 25 repetitions (a heuristic, which also
 * refuses what it cannot parse); the length cap bounds everything else.
 */
export function patternProblem(pattern: string): string | null {
  if (pattern.length > MAX_PATTERN_LENGTH) {
    return `must be at most ${MAX_PATTERN_LENGTH} characters (got ${pattern.length})`;
  }
  try {
    new RegExp(pattern, 'u');
  } catch (error: unknown) {
    return `is not a valid regular expression (${error instanceof Error ? error.message : String(error)})`;
  }
  if (!safeRegex(optionalGroupsAsAlternatives(pattern))) {
    return 'is not a safe regular expression: nested repetition such as (a+)+, or more than 25 repetitions, could make matching take exponential time';
  }
  return null;
}

/** Ajv's regular expressions: the platform's safety rules again (for definitions saved before they existed). */
const guardedRegExp: NonNullable<NonNullable<AjvOptions['code']>['regExp']> = Object.assign(
  (pattern: string, flags: string) => {
    const problem = patternProblem(pattern);
    if (problem) throw new Error(`the pattern ${JSON.stringify(pattern.slice(0, 50))} ${problem}`);
    return new RegExp(pattern, flags);
  },
  { code: 'new RegExp' },
);

/** Validates schemas against the 2020-12 meta-schema; never compiles or stores a caller's schema. */
const metaAjv = new Ajv2020({ strict: true, logger: false });

/**
 * Compiles an input schema with the rules of the platform: draft 2020-12, strict keywords, the
 * {@link SUPPORTED_FORMATS}, all errors. A fresh Ajv instance per schema keeps one company's `$id`
 * from ever meeting another's. Throws when the schema does not compile. The run engine validates a
 * run's input with the returned function.
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
    code: { regExp: guardedRegExp },
  });
  for (const format of SUPPORTED_FORMATS) {
    ajv.addFormat(format, { type: 'string', validate: FORMAT_CHECKS[format] });
  }
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
function checkInputSchema(errors: Collector, field: string, schema: unknown): Set<string> | null {
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

// ---------------------------------------------------------------------------------------------
// References
// ---------------------------------------------------------------------------------------------

const REFERENCE_RE = /\{\{([^{}]*)\}\}/g;
const EXACT_REFERENCE_RE = /^\{\{([^{}]*)\}\}$/;
const SEGMENT_RE = /^[A-Za-z0-9_$-]+$/;

/** Parses the text between `{{` and `}}` (surrounding whitespace allowed); null when malformed. */
export function parseReference(expression: string): ParsedReference | null {
  const segments = expression.trim().split('.');
  if (!segments.every((s) => SEGMENT_RE.test(s))) return null;
  const [root, ...rest] = segments;
  if (root === 'input') return rest.length >= 1 ? { root: 'input', path: rest } : null;
  if (root === 'steps') {
    const [stepId, output, ...path] = rest;
    if (stepId === undefined || output !== 'output') return null;
    return { root: 'steps', stepId, path };
  }
  return null;
}

interface FoundReference {
  expression: string;
  parsed: ParsedReference | null;
}

/** References in one string, plus whether a `{{` is left unterminated. */
function scanString(text: string): { references: FoundReference[]; unterminated: boolean } {
  const references: FoundReference[] = [];
  let lastEnd = 0;
  let unterminated = false;
  for (const match of text.matchAll(REFERENCE_RE)) {
    const expression = (match[1] ?? '').trim();
    if (text.slice(lastEnd, match.index).includes('{{')) unterminated = true;
    references.push({ expression, parsed: parseReference(expression) });
    lastEnd = match.index + match[0].length;
  }
  if (text.slice(lastEnd).includes('{{')) unterminated = true;
  return { references, unterminated };
}

/** Every string inside a JSON value with its dotted path. */
function collectStrings(value: unknown, field: string, out: { field: string; text: string }[]): void {
  if (typeof value === 'string') out.push({ field, text: value });
  else if (Array.isArray(value)) value.forEach((item, i) => collectStrings(item, join(field, i), out));
  else if (isPlainObject(value)) {
    for (const [key, item] of Object.entries(value)) collectStrings(item, join(field, key), out);
  }
}

function stepStrings(step: {
  kind?: unknown;
  input?: unknown;
  prompt?: unknown;
}): { field: string; text: string }[] {
  const out: { field: string; text: string }[] = [];
  if (step.kind === 'tool' && step.input !== undefined) collectStrings(step.input, 'input', out);
  if (step.kind === 'approval' && typeof step.prompt === 'string')
    out.push({ field: 'prompt', text: step.prompt });
  return out;
}

/** The `{{…}}` references a step holds (tool `input` strings, approval `prompt`), in document order. */
export function referencedPaths(step: TemplateStep): StepReference[] {
  return stepStrings(step).flatMap(({ field, text }) =>
    scanString(text).references.map((r) => ({ field, expression: r.expression, parsed: r.parsed })),
  );
}

// ---------------------------------------------------------------------------------------------
// Steps
// ---------------------------------------------------------------------------------------------

const COMMON_STEP_FIELDS = ['id', 'kind', 'name'] as const;
const TOOL_STEP_FIELDS = [...COMMON_STEP_FIELDS, 'toolId', 'input', 'timeoutMs', 'retries'] as const;
const APPROVAL_STEP_FIELDS = [...COMMON_STEP_FIELDS, 'minRole', 'prompt'] as const;
const TOP_LEVEL_FIELDS = [
  'key',
  'version',
  'name',
  'description',
  'category',
  'inputSchema',
  'steps',
] as const;

interface StepInfo {
  index: number;
  kind: unknown;
}

function checkReferences(
  errors: Collector,
  base: string,
  step: Record<string, unknown>,
  index: number,
  declaredInputs: Set<string> | null,
  stepsById: Map<string, StepInfo>,
): void {
  for (const { field, text } of stepStrings(step)) {
    const path = join(base, field);
    const { references, unterminated } = scanString(text);
    if (unterminated) errors.add(path, 'has a "{{" without a matching "}}"');
    for (const { expression, parsed } of references) {
      if (parsed === null) {
        errors.add(
          path,
          `reference {{${expression}}} is not valid: use {{input.<property>…}} or {{steps.<id>.output…}}`,
        );
      } else if (parsed.root === 'input') {
        const first = parsed.path[0] ?? '';
        if (declaredInputs !== null && !declaredInputs.has(first)) {
          errors.add(
            path,
            `reference {{${expression}}} names "${first}", which inputSchema.properties does not declare`,
          );
        }
      } else {
        const target = stepsById.get(parsed.stepId);
        if (target === undefined) {
          errors.add(path, `reference {{${expression}}} names step "${parsed.stepId}", which does not exist`);
        } else if (target.index >= index) {
          errors.add(
            path,
            `reference {{${expression}}} must name an earlier step; "${parsed.stepId}" is not before this one`,
          );
        } else if (target.kind === 'approval') {
          // (a step whose kind is itself invalid is reported there, not once more per reference)
          errors.add(
            path,
            `reference {{${expression}}} names step "${parsed.stepId}", which is not a tool step and has no output`,
          );
        }
      }
    }
  }
}

function checkStepInput(errors: Collector, field: string, input: unknown): void {
  if (input === undefined) return;
  if (!isPlainObject(input)) {
    errors.add(field, `must be an object, got ${describe(input)}`);
  }
  // Values are JSON by construction: the definition was round-tripped through JSON before validation.
}

function checkStep(
  errors: Collector,
  base: string,
  step: unknown,
  index: number,
  declaredInputs: Set<string> | null,
  stepsById: Map<string, StepInfo>,
  seenIds: Set<string>,
): void {
  if (!isPlainObject(step)) {
    errors.add(base, `must be an object, got ${describe(step)}`);
    return;
  }
  const id = checkPattern(errors, join(base, 'id'), step.id, STEP_ID_PATTERN, 63, 'a step id', true);
  if (id !== undefined) {
    if (seenIds.has(id)) errors.add(join(base, 'id'), `duplicates the id of an earlier step ("${id}")`);
    seenIds.add(id);
  }
  checkText(errors, join(base, 'name'), step.name, MAX_NAME_LENGTH, true);
  const kind = checkOneOf(errors, join(base, 'kind'), step.kind, STEP_KINDS);
  if (kind === 'tool') {
    checkUnknownFields(errors, base, step, TOOL_STEP_FIELDS, 'a tool step');
    checkPattern(
      errors,
      join(base, 'toolId'),
      step.toolId,
      TOOL_ID_PATTERN,
      MAX_TOOL_ID_LENGTH,
      'a tool id',
      true,
    );
    checkStepInput(errors, join(base, 'input'), step.input);
    checkInteger(errors, join(base, 'timeoutMs'), step.timeoutMs, TIMEOUT_MS_RANGE, false);
    checkInteger(errors, join(base, 'retries'), step.retries, RETRIES_RANGE, false);
  } else if (kind === 'approval') {
    checkUnknownFields(errors, base, step, APPROVAL_STEP_FIELDS, 'an approval step');
    checkOneOf(errors, join(base, 'minRole'), step.minRole, APPROVAL_ROLES);
    checkText(errors, join(base, 'prompt'), step.prompt, MAX_PROMPT_LENGTH, true);
  } else {
    return; // fields depend on the kind; the kind error says it all
  }
  checkReferences(errors, base, step, index, declaredInputs, stepsById);
}

// ---------------------------------------------------------------------------------------------
// The validator
// ---------------------------------------------------------------------------------------------

/** Length of `value.steps` when it is an array (own data property only), else undefined. */
function stepsLength(value: unknown): number | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const descriptor = Object.getOwnPropertyDescriptor(value, 'steps');
  return descriptor && Array.isArray(descriptor.value) ? descriptor.value.length : undefined;
}

/**
 * Validates a template (or, with `requireKey: false`, a draft) definition. Collects every error,
 * each with a dotted `field` path from the definition's root (`''` is the definition itself).
 * The returned value is a JSON copy of the input, never the caller's object.
 */
export function validateDefinition(
  value: unknown,
  options: { requireKey: false },
): DefinitionValidation<DraftDefinition>;
export function validateDefinition(
  value: unknown,
  options?: { requireKey?: true },
): DefinitionValidation<TemplateDefinition>;
export function validateDefinition(
  value: unknown,
  options?: ValidateOptions,
): DefinitionValidation<TemplateDefinition | DraftDefinition>;
export function validateDefinition(
  value: unknown,
  options: ValidateOptions = {},
): DefinitionValidation<TemplateDefinition | DraftDefinition> {
  const requireKey = options.requireKey !== false;

  // 0. A cheap count before anything else, so a definition of 10,000 steps is told about its steps
  //    (`steps`: at most MAX_STEPS) rather than about its size, and nothing walks the whole array.
  const stepCount = stepsLength(value);
  if (stepCount !== undefined && stepCount > MAX_STEPS) {
    return {
      ok: false,
      errors: [{ field: 'steps', message: `must hold at most ${MAX_STEPS} steps (got ${stepCount})` }],
    };
  }

  // 1. Envelope first: depth, then size, so nothing below can be made slow or overflow the stack.
  const envelope = inspectEnvelope(value, MAX_DEPTH, MAX_DEFINITION_BYTES);
  if (envelope === 'too-deep') {
    return { ok: false, errors: [{ field: '', message: `must be nested at most ${MAX_DEPTH} levels deep` }] };
  }
  if (envelope === 'too-large') {
    return {
      ok: false,
      errors: [{ field: '', message: `must be at most ${MAX_DEFINITION_BYTES} bytes as JSON` }],
    };
  }
  let serialized: string | undefined;
  try {
    serialized = JSON.stringify(value);
  } catch {
    serialized = undefined;
  }
  if (serialized === undefined) {
    return { ok: false, errors: [{ field: '', message: 'must be a JSON value' }] };
  }
  if (Buffer.byteLength(serialized, 'utf8') > MAX_DEFINITION_BYTES) {
    return {
      ok: false,
      errors: [{ field: '', message: `must be at most ${MAX_DEFINITION_BYTES} bytes as JSON` }],
    };
  }
  const definition: unknown = JSON.parse(serialized);

  const errors = new Collector();
  if (!isPlainObject(definition)) {
    return { ok: false, errors: [{ field: '', message: `must be an object, got ${describe(definition)}` }] };
  }

  // 2. Top-level fields.
  checkUnknownFields(errors, '', definition, TOP_LEVEL_FIELDS, 'a definition');
  checkPattern(
    errors,
    'key',
    definition.key,
    KEY_PATTERN,
    MAX_KEY_LENGTH,
    'a lowercase dotted key',
    requireKey,
  );
  checkInteger(errors, 'version', definition.version, { min: 1, max: Number.MAX_SAFE_INTEGER }, requireKey);
  checkText(errors, 'name', definition.name, MAX_NAME_LENGTH, true);
  checkText(errors, 'description', definition.description, MAX_DESCRIPTION_LENGTH, true);
  checkOneOf(errors, 'category', definition.category, CATEGORIES);
  const declaredInputs = checkInputSchema(errors, 'inputSchema', definition.inputSchema);

  // 3. Steps.
  const steps = definition.steps;
  if (steps === undefined) {
    errors.add('steps', 'is required');
  } else if (!Array.isArray(steps)) {
    errors.add('steps', `must be an array, got ${describe(steps)}`);
  } else if (steps.length === 0) {
    errors.add('steps', 'must hold at least one step');
  } else if (steps.length > MAX_STEPS) {
    errors.add('steps', `must hold at most ${MAX_STEPS} steps (got ${steps.length})`);
  } else {
    const stepsById = new Map<string, StepInfo>();
    steps.forEach((step: unknown, index) => {
      if (isPlainObject(step) && typeof step.id === 'string' && !stepsById.has(step.id)) {
        stepsById.set(step.id, { index, kind: step.kind });
      }
    });
    const seenIds = new Set<string>();
    steps.forEach((step: unknown, index) => {
      checkStep(errors, join('steps', index), step, index, declaredInputs, stepsById, seenIds);
    });
  }

  if (errors.count > 0) return { ok: false, errors: errors.result() };
  return { ok: true, value: definition as unknown as TemplateDefinition | DraftDefinition };
}

// ---------------------------------------------------------------------------------------------
// Interpolation (used by the run engine)
// ---------------------------------------------------------------------------------------------

function child(value: unknown, segment: string): unknown {
  if (Array.isArray(value)) return /^\d+$/.test(segment) ? value[Number(segment)] : undefined;
  if (isPlainObject(value) && Object.hasOwn(value, segment)) return value[segment];
  return undefined;
}

/** The value a reference points at, or undefined when it points nowhere. Only own properties are followed. */
export function resolveReference(reference: ParsedReference, scope: InterpolationScope): unknown {
  let current: unknown;
  if (reference.root === 'input') {
    current = scope.input;
  } else {
    if (!Object.hasOwn(scope.steps, reference.stepId)) return undefined;
    current = scope.steps[reference.stepId]?.output;
  }
  for (const segment of reference.path) {
    current = child(current, segment);
    if (current === undefined) return undefined;
  }
  return current;
}

function stringifyForText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'object') return JSON.stringify(value) ?? '';
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  return '';
}

/**
 * Replaces references in a step's `input` or `prompt` with values from the run:
 * - a string that is exactly one `{{path}}` becomes the referenced value itself (any JSON type;
 *   a path that resolves to nothing becomes `null`);
 * - in a string mixing text and references each reference is replaced by its text form (strings
 *   as is, objects and arrays as JSON, null and missing values as the empty string);
 * - arrays and objects are walked; other values are returned unchanged.
 * Text between braces that is not a valid reference is left as written.
 */
export function interpolate(template: unknown, scope: InterpolationScope): unknown {
  if (typeof template === 'string') {
    const exact = EXACT_REFERENCE_RE.exec(template);
    if (exact) {
      const parsed = parseReference(exact[1] ?? '');
      if (parsed !== null) return resolveReference(parsed, scope) ?? null;
    }
    return template.replace(REFERENCE_RE, (whole, expression: string) => {
      const parsed = parseReference(expression);
      return parsed === null ? whole : stringifyForText(resolveReference(parsed, scope));
    });
  }
  if (Array.isArray(template)) return template.map((item) => interpolate(item, scope));
  if (isPlainObject(template)) {
    return Object.fromEntries(Object.entries(template).map(([key, item]) => [key, interpolate(item, scope)]));
  }
  return template;
}
