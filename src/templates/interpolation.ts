/** `{{…}}` references in steps: parsing, listing (for the validator) and interpolation (for the run engine). */
import { isPlainObject, join } from './definition-checks.js';
import type { InterpolationScope, ParsedReference, StepReference, TemplateStep } from './definition-types.js';

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
export function scanString(text: string): { references: FoundReference[]; unterminated: boolean } {
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

export function stepStrings(step: {
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
