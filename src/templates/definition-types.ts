/**
 * The template definition format: its limits, vocabularies and types (shared by the governed catalog, each
 * company's drafts and the run engine). The validator is `definition.ts`.
 */
import { MAX_USER_PATTERN_LENGTH } from '../common/safe-regex.js';
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
export const MAX_PATTERN_LENGTH = MAX_USER_PATTERN_LENGTH;
export const TIMEOUT_MS_RANGE = { min: 100, max: 60_000 } as const;
export const RETRIES_RANGE = { min: 0, max: 5 } as const;

export const KEY_PATTERN = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+$/;
export const STEP_ID_PATTERN = /^[a-z][a-z0-9-]{0,62}$/;
/** An approval step's `approverGroup`: a group key (lowercase letters, digits and dashes, 1 to 64). */
export const APPROVER_GROUP_PATTERN = /^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$/;

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
  /**
   * A group's `key` (portable across companies): its members may give the verdict too, whatever their role
   * (the route still needs `runs:verdict`, through the role or a group).
   */
  approverGroup?: string;
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
