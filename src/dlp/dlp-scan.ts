import { RE2JS } from 're2js';
import { compileUserPattern } from '../common/safe-regex.js';
import { builtInFinder, type Detector, type Span, type SpanFinder } from './detectors.js';

export const DLP_ACTIONS = ['block', 'redact', 'audit'] as const;
export type DlpAction = (typeof DLP_ACTIONS)[number];
export const DLP_SCOPES = ['run_input', 'connector_request', 'step_output', 'workspace', 'listing'] as const;
export type DlpScope = (typeof DLP_SCOPES)[number];

/** A rule as stored and as the API shows it. */
export interface DlpRule {
  detector: Detector;
  action: DlpAction;
  /** Absent: every scope. */
  scopes?: DlpScope[];
  /** The custom detector's pattern (ECMAScript syntax, run on RE2). */
  pattern?: string;
}

export interface CompiledRule {
  detector: Detector;
  action: DlpAction;
  find: SpanFinder;
}

/** A policy ready to scan: its rules by scope. */
export interface CompiledPolicy {
  /** Every rule, in order (the test endpoint runs them all). */
  all: CompiledRule[];
  byScope: Record<DlpScope, CompiledRule[]>;
}

/**
 * The most matches of a custom pattern taken in one text. A pattern that matches almost anything (`[^]`, `.`)
 * would otherwise make a match per character: a million `find` steps (about a second) and tens of megabytes of
 * spans for a 1 MiB body, enough for a few concurrent requests to stall the process and exhaust its heap. At the
 * cap the rest of the text counts as one match (fail closed): a redact rule redacts it, a block rule blocks (as
 * it would have), an audit rule counts one more.
 */
export const MAX_CUSTOM_MATCHES = 10_000;

/** Every match of a linear-time user pattern (empty matches skipped, touching ones merged, up to the cap). */
export function customFinder(pattern: string): SpanFinder {
  compileUserPattern(pattern); // the same checks (and errors) as every user pattern
  const re = RE2JS.compile(RE2JS.translateRegExp(pattern));
  return (text) => {
    const out: Span[] = [];
    const m = re.matcher(text);
    let matches = 0;
    while (m.find()) {
      const start = m.start();
      const end = m.end();
      // Empty matches count too (`x*` matches at every position), else they would be a million steps as well.
      const capped = ++matches > MAX_CUSTOM_MATCHES;
      const span = capped ? { start, end: text.length } : { start, end };
      if (span.end > span.start) {
        const last = out.at(-1);
        if (last && span.start <= last.end) last.end = Math.max(last.end, span.end);
        else out.push(span);
      }
      if (capped) break;
    }
    return out;
  };
}

export function compileRule(rule: DlpRule): CompiledRule {
  const find = rule.detector === 'custom' ? customFinder(rule.pattern ?? '') : builtInFinder(rule.detector);
  return { detector: rule.detector, action: rule.action, find };
}

export function compilePolicy(rules: readonly DlpRule[]): CompiledPolicy {
  const byScope = Object.fromEntries(DLP_SCOPES.map((s) => [s, [] as CompiledRule[]])) as Record<
    DlpScope,
    CompiledRule[]
  >;
  const all: CompiledRule[] = [];
  for (const rule of rules) {
    const compiled = compileRule(rule);
    all.push(compiled);
    for (const scope of rule.scopes ?? DLP_SCOPES) byScope[scope].push(compiled);
  }
  return { all, byScope };
}

/** A finding of the test endpoint: offsets only, never the text. */
export interface Finding {
  detector: Detector;
  start: number;
  end: number;
}

/** The most findings the test endpoint lists (the first ones by offset; `truncated` says when there were more). */
export const MAX_TEST_FINDINGS = 1_000;

/** The first findings of every rule in `text`, by offset, and whether there were more. */
export function findAll(
  rules: readonly CompiledRule[],
  text: string,
): { findings: Finding[]; truncated: boolean } {
  const out: Finding[] = [];
  for (const rule of rules) {
    for (const s of rule.find(text)) out.push({ detector: rule.detector, start: s.start, end: s.end });
  }
  out.sort((a, b) => a.start - b.start || a.end - b.end || a.detector.localeCompare(b.detector));
  return { findings: out.slice(0, MAX_TEST_FINDINGS), truncated: out.length > MAX_TEST_FINDINGS };
}

/** One detector's findings at one field path (paths never hold a matched value: see `walk`). */
export interface Hit {
  detector: Detector;
  action: DlpAction;
  path: string;
  count: number;
}

export interface ScanResult<T> {
  /** The value with every `redact` match replaced (the same object when nothing was redacted). */
  value: T;
  hits: Hit[];
  blocked: boolean;
}

export const redactionOf = (detector: string) => `[REDACTED:${detector}]`;

interface Labelled extends Span {
  detector: Detector;
}

/** Replaces each span (overlapping ones merged under the first one's detector) with its redaction. */
function redactSpans(text: string, spans: Labelled[]): string {
  if (spans.length === 0) return text;
  spans.sort((a, b) => a.start - b.start || b.end - a.end);
  let out = '';
  let at = 0;
  let open: Labelled | null = null;
  for (const s of spans) {
    if (open && s.start < open.end) {
      open.end = Math.max(open.end, s.end);
      continue;
    }
    if (open) {
      out += redactionOf(open.detector);
      at = open.end;
    }
    out += text.slice(at, s.start);
    open = { ...s };
  }
  if (open) {
    out += redactionOf(open.detector);
    at = open.end;
  }
  return out + text.slice(at);
}

const MAX_HITS = 200;
const join = (path: string, key: string) => (path === '' ? key : `${path}.${key}`);

/**
 * Between two strings of a value in the joined text: no built-in detector's character classes take `\u0000`, so
 * no built-in match crosses it. (A custom pattern may: such a match is dropped, and the strings it touched are
 * scanned again one by one.)
 */
const SEPARATOR = '\n\u0000\n';

interface RuleSpan extends Span {
  rule: CompiledRule;
}

/**
 * Every string of `value` (object keys and string values), in the order `rebuild` visits them; `ends` takes, for
 * each object and array, the index just past its last string (so an untouched subtree is skipped whole).
 */
function collectStrings(value: unknown, out: string[], ends: Map<object, number>): void {
  if (typeof value === 'string') {
    out.push(value);
  } else if (Array.isArray(value)) {
    for (const item of value) collectStrings(item, out, ends);
    ends.set(value, out.length);
  } else if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      out.push(key);
      collectStrings(record[key], out, ends);
    }
    ends.set(value, out.length);
  }
}

/**
 * The spans each rule finds in each string. The strings are joined into one text and every rule runs once over
 * it (a JSON body of many short strings costs one pass per rule, not one call per string and rule); each span
 * is mapped back to its string by offset.
 */
function spansByString(rules: readonly CompiledRule[], strings: string[]): (RuleSpan[] | undefined)[] {
  const out: (RuleSpan[] | undefined)[] = new Array<RuleSpan[] | undefined>(strings.length);
  const starts: number[] = new Array<number>(strings.length);
  let offset = 0;
  for (let i = 0; i < strings.length; i++) {
    starts[i] = offset;
    offset += strings[i].length + SEPARATOR.length;
  }
  const text = strings.join(SEPARATOR);
  const owner = (pos: number): number => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  const add = (i: number, span: RuleSpan) => (out[i] ??= []).push(span);
  for (const rule of rules) {
    const again = new Set<number>();
    for (const s of rule.find(text)) {
      const i = owner(s.start);
      if (s.end <= starts[i] + strings[i].length) {
        add(i, { start: s.start - starts[i], end: s.end - starts[i], rule });
      } else {
        for (let j = i; j < strings.length && starts[j] < s.end; j++) again.add(j);
      }
    }
    for (const i of again) {
      for (const s of rule.find(strings[i])) add(i, { start: s.start, end: s.end, rule });
    }
  }
  return out;
}

/**
 * Walks a JSON value (strings, object keys, nested objects and arrays) with the rules of one scope. Field paths
 * are dotted (`input.customer.card`, `input.items.2.note`); a key that itself matches a rule appears in paths
 * (and, with `redact`, in the value) by its redacted form, so no path carries a matched value.
 */
export function walk<T>(rules: readonly CompiledRule[], value: T, root: string): ScanResult<T> {
  if (rules.length === 0) return { value, hits: [], blocked: false };
  const strings: string[] = [];
  const ends = new Map<object, number>();
  collectStrings(value, strings, ends);
  if (strings.length === 0) return { value, hits: [], blocked: false };
  const found = spansByString(rules, strings);
  // marked[i]: how many of the first i strings have a finding (a subtree without one is returned as it is).
  const marked = new Uint32Array(strings.length + 1);
  for (let i = 0; i < strings.length; i++) marked[i + 1] = marked[i] + (found[i] ? 1 : 0);
  if (marked[strings.length] === 0) return { value, hits: [], blocked: false };
  const hits: Hit[] = [];
  let blocked = false;
  let next = 0;

  const note = (spans: RuleSpan[], path: string) => {
    for (const { rule } of spans) {
      if (rule.action === 'block') blocked = true;
      const same = hits.find(
        (h) => h.path === path && h.detector === rule.detector && h.action === rule.action,
      );
      if (same) same.count += 1;
      else if (hits.length < MAX_HITS)
        hits.push({ detector: rule.detector, action: rule.action, path, count: 1 });
    }
  };
  const redacted = (text: string, spans: RuleSpan[], all: boolean) =>
    redactSpans(
      text,
      spans
        .filter((s) => all || s.rule.action === 'redact')
        .map((s) => ({ start: s.start, end: s.end, detector: s.rule.detector })),
    );

  // Visits the value in `collectStrings` order, taking each string's spans in turn.
  const rebuild = (v: unknown, path: string): unknown => {
    if (typeof v === 'string') {
      const spans = found[next++];
      if (!spans) return v;
      note(spans, path);
      return redacted(v, spans, false);
    }
    if (v !== null && typeof v === 'object') {
      const end = ends.get(v)!;
      if (marked[end] === marked[next]) {
        next = end;
        return v;
      }
    }
    if (Array.isArray(v)) {
      let copy: unknown[] | null = null;
      for (let i = 0; i < v.length; i++) {
        const item = rebuild(v[i], join(path, String(i)));
        if (item !== v[i]) (copy ??= v.slice())[i] = item;
      }
      return copy ?? v;
    }
    if (v !== null && typeof v === 'object') {
      let changed = false;
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(v as Record<string, unknown>)) {
        const spans = found[next++];
        let name = key;
        let shown = key;
        if (spans) {
          // The key is shown redacted in paths whatever the action (a path must never carry a matched value).
          shown = redacted(key, spans, true);
          note(spans, join(path, shown));
          name = redacted(key, spans, false);
          if (name !== key) changed = true;
        }
        const rebuilt = rebuild(item, join(path, shown));
        if (rebuilt !== item) changed = true;
        out[name] = rebuilt;
      }
      return changed ? out : v;
    }
    return v;
  };
  const out = rebuild(value, root) as T;
  return { value: out, hits, blocked };
}
