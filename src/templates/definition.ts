/**
 * The template definition format, shared by the governed catalog and by each company's drafts,
 * and its pure validator. No I/O, no Nest, no database: callers (the templates module, the drafts
 * module, the run engine) decide what to do with the result. By concern: limits and types
 * (`definition-types.ts`), field checks (`definition-checks.ts`), the input schema and its patterns
 * (`input-schema.ts`), references and interpolation (`interpolation.ts`); this file validates steps and
 * the whole definition, and re-exports the rest.
 */
import {
  checkInteger,
  checkOneOf,
  checkPattern,
  checkText,
  checkUnknownFields,
  Collector,
  describe,
  inspectEnvelope,
  isPlainObject,
  join,
} from './definition-checks.js';
import {
  APPROVAL_ROLES,
  APPROVER_GROUP_PATTERN,
  CATEGORIES,
  KEY_PATTERN,
  MAX_DEFINITION_BYTES,
  MAX_DEPTH,
  MAX_DESCRIPTION_LENGTH,
  MAX_KEY_LENGTH,
  MAX_NAME_LENGTH,
  MAX_PROMPT_LENGTH,
  MAX_STEPS,
  MAX_TOOL_ID_LENGTH,
  RETRIES_RANGE,
  STEP_ID_PATTERN,
  STEP_KINDS,
  TIMEOUT_MS_RANGE,
  TOOL_ID_PATTERN,
  type DefinitionValidation,
  type DraftDefinition,
  type TemplateDefinition,
  type ValidateOptions,
} from './definition-types.js';
import { checkInputSchema } from './input-schema.js';
import { scanString, stepStrings } from './interpolation.js';

export * from './definition-types.js';
export { compileInputSchema, patternProblem } from './input-schema.js';
export { interpolate, parseReference, referencedPaths, resolveReference } from './interpolation.js';

// ---------------------------------------------------------------------------------------------
// Steps
// ---------------------------------------------------------------------------------------------

const COMMON_STEP_FIELDS = ['id', 'kind', 'name'] as const;
const TOOL_STEP_FIELDS = [...COMMON_STEP_FIELDS, 'toolId', 'input', 'timeoutMs', 'retries'] as const;
const APPROVAL_STEP_FIELDS = [...COMMON_STEP_FIELDS, 'minRole', 'approverGroup', 'prompt'] as const;
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
    checkPattern(
      errors,
      join(base, 'approverGroup'),
      step.approverGroup,
      APPROVER_GROUP_PATTERN,
      64,
      'a group key',
      false,
    );
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
