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
  byScope: Record<DlpScope, CompiledRule[]>;
}

/** Every match of a linear-time user pattern (empty matches skipped). */
export function customFinder(pattern: string): SpanFinder {
  compileUserPattern(pattern); // the same checks (and errors) as every user pattern
  const re = RE2JS.compile(RE2JS.translateRegExp(pattern));
  return (text) => {
    const out: Span[] = [];
    const m = re.matcher(text);
    while (m.find()) {
      const start = m.start();
      const end = m.end();
      if (end > start) out.push({ start, end });
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
  for (const rule of rules) {
    const compiled = compileRule(rule);
    for (const scope of rule.scopes ?? DLP_SCOPES) byScope[scope].push(compiled);
  }
  return { byScope };
}

/** A finding of the test endpoint: offsets only, never the text. */
export interface Finding {
  detector: Detector;
  start: number;
  end: number;
}

/** Every finding of every rule in `text`, by offset. */
export function findAll(rules: readonly CompiledRule[], text: string): Finding[] {
  const out: Finding[] = [];
  for (const rule of rules) {
    for (const s of rule.find(text)) out.push({ detector: rule.detector, start: s.start, end: s.end });
  }
  return out.sort((a, b) => a.start - b.start || a.end - b.end || a.detector.localeCompare(b.detector));
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

/**
 * Scans one string: the hits of each rule, and the string with the `redact` matches replaced (overlapping
 * redactions merged under the first one's detector).
 */
function scanString(
  rules: readonly CompiledRule[],
  text: string,
): { text: string; hits: Map<CompiledRule, number> } | null {
  let hits: Map<CompiledRule, number> | null = null;
  let redact: Labelled[] | null = null;
  for (const rule of rules) {
    const found = rule.find(text);
    if (found.length === 0) continue;
    (hits ??= new Map()).set(rule, found.length);
    if (rule.action === 'redact') {
      redact ??= [];
      for (const s of found) redact.push({ ...s, detector: rule.detector });
    }
  }
  if (!hits) return null;
  if (!redact) return { text, hits };
  redact.sort((a, b) => a.start - b.start || b.end - a.end);
  let out = '';
  let at = 0;
  let open: Labelled | null = null;
  for (const s of redact) {
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
  return { text: out + text.slice(at), hits };
}

const MAX_HITS = 200;
const join = (path: string, key: string) => (path === '' ? key : `${path}.${key}`);

/**
 * Walks a JSON value (strings, object keys, nested objects and arrays) with the rules of one scope. Field paths
 * are dotted (`input.customer.card`, `input.items.2.note`); a key that itself matches a rule appears in paths
 * (and, with `redact`, in the value) by its redacted form, so no path carries a matched value.
 */
export function walk<T>(rules: readonly CompiledRule[], value: T, root: string): ScanResult<T> {
  const hits: Hit[] = [];
  let blocked = false;
  const note = (found: Map<CompiledRule, number>, path: string) => {
    for (const [rule, count] of found) {
      if (rule.action === 'block') blocked = true;
      const same = hits.find(
        (h) => h.path === path && h.detector === rule.detector && h.action === rule.action,
      );
      if (same) same.count += count;
      else if (hits.length < MAX_HITS)
        hits.push({ detector: rule.detector, action: rule.action, path, count });
    }
  };
  const visit = (v: unknown, path: string): unknown => {
    if (typeof v === 'string') {
      const r = scanString(rules, v);
      if (!r) return v;
      note(r.hits, path);
      return r.text;
    }
    if (Array.isArray(v)) {
      let copy: unknown[] | null = null;
      for (let i = 0; i < v.length; i++) {
        const next = visit(v[i], join(path, String(i)));
        if (next !== v[i]) (copy ??= v.slice())[i] = next;
      }
      return copy ?? v;
    }
    if (v !== null && typeof v === 'object') {
      let changed = false;
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(v as Record<string, unknown>)) {
        let name = key;
        {
          const r = scanString(rules, key);
          if (r) {
            // The key is shown redacted in paths whatever the action (its value is what a path names).
            const shown = scanString(
              rules.map((rule) => ({ ...rule, action: 'redact' as const })),
              key,
            )!.text;
            note(r.hits, join(path, shown));
            name = r.text;
            if (name !== key) changed = true;
            const next = visit(item, join(path, shown));
            if (next !== item) changed = true;
            out[name] = next;
            continue;
          }
        }
        const next = visit(item, join(path, key));
        if (next !== item) changed = true;
        out[name] = next;
      }
      return changed ? out : v;
    }
    return v;
  };
  const out = rules.length === 0 ? value : (visit(value, root) as T);
  return { value: out, hits, blocked };
}
