import { RE2JS } from 're2js';

/**
 * Regular expressions that come from users (input schema `pattern`s and `patternProperties` keys of drafts; DLP
 * custom rules and any filter later): compiled only here, and matched only by a linear-time engine.
 *
 * JavaScript's own engine backtracks: an ambiguous repetition (`^(\w|\d)*$`, `^(a|aa)*$`) makes a 30-character
 * input block the event loop for seconds, for every company. No heuristic spots every such pattern, so user
 * patterns never reach it: they run on RE2 (`re2js`, pure JavaScript; time linear in the input for every
 * pattern). What RE2 cannot express (look-around, back-references) is refused when the pattern is saved.
 */

/** Length of a user pattern. */
export const MAX_USER_PATTERN_LENGTH = 200;

/** Why a user pattern cannot be used; callers answer it as a 400 naming the field the pattern came from. */
export class UnsafePatternError extends Error {
  constructor(
    readonly pattern: string,
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'UnsafePatternError';
  }
}

/** A compiled user pattern. `test` searches like `RegExp.prototype.test` (anchors are the pattern's own). */
export interface UserPattern {
  readonly source: string;
  test(input: string): boolean;
}

/**
 * Compiles an ECMAScript-syntax pattern (as JSON Schema writes them) for the linear-time engine. Throws
 * `UnsafePatternError` when it is too long, not a valid ECMAScript pattern, or not expressible in RE2.
 */
export function compileUserPattern(pattern: string): UserPattern {
  if (typeof pattern !== 'string') throw new UnsafePatternError(String(pattern), 'must be a string');
  if (pattern.length > MAX_USER_PATTERN_LENGTH) {
    throw new UnsafePatternError(
      pattern,
      `must be at most ${MAX_USER_PATTERN_LENGTH} characters (got ${pattern.length})`,
    );
  }
  try {
    // Validated by the platform's parser first (what JSON Schema means by a pattern), never run by it.
    new RegExp(pattern, 'u');
  } catch (error: unknown) {
    throw new UnsafePatternError(
      pattern,
      `is not a valid regular expression (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  if (hasNamedBackReference(pattern)) {
    // RE2 would read `\k<name>` as the literal text "k<name>": a different pattern, silently.
    throw new UnsafePatternError(
      pattern,
      'is not supported: patterns run on a linear-time engine (RE2), which has no look-around or back-references (\\k<name>)',
    );
  }
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(RE2JS.translateRegExp(pattern));
  } catch (error: unknown) {
    const detail = error instanceof Error ? error.message.replace(/^error parsing regexp: /, '') : '';
    throw new UnsafePatternError(
      pattern,
      `is not supported: patterns run on a linear-time engine (RE2), which has no look-around or back-references${detail ? ` (${detail})` : ''}`,
    );
  }
  return { source: pattern, test: (input: string) => compiled.test(input) };
}

/** Whether an (ECMAScript, `u`-mode valid) pattern holds `\k<name>` outside an escape: a named back-reference. */
function hasNamedBackReference(pattern: string): boolean {
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i] !== '\\') continue;
    if (pattern[i + 1] === 'k') return true;
    i++; // the escaped character (`\\k` is a backslash and a k)
  }
  return false;
}

/** Why `pattern` cannot be used as a user pattern, or null. */
export function userPatternProblem(pattern: string): string | null {
  try {
    compileUserPattern(pattern);
    return null;
  } catch (error: unknown) {
    if (error instanceof UnsafePatternError) return error.reason;
    throw error;
  }
}

/**
 * Ajv's `code.regExp` engine: every `pattern` and `patternProperties` key of a compiled schema runs on RE2.
 * (The `code` names the engine for Ajv's standalone code generation, which Tenantry does not use.)
 */
export const linearRegExpEngine = Object.assign((pattern: string) => compileUserPattern(pattern), {
  code: 'require("re2js").RE2JS.compile',
});
