/**
 * DLP detectors: precise, not greedy. Each built-in detector is a candidate regular expression whose every
 * repetition is bounded or starts only at a token boundary (so a scan is linear in the text), followed by a
 * check of the candidate (Luhn for cards, ISO 7064 mod-97 and the country's length for IBANs, the SSA's
 * reserved ranges for SSNs, digit counts for phone numbers). E-mail addresses are found from their `@`
 * outwards rather than by a regex that would retry every start of a long word.
 *
 * Secrets: a curated list of provider key formats (below). The maintained npm pattern set, secretlint's
 * recommended preset (`@secretlint/secretlint-rule-preset-recommend` 13.0.7), was measured at 26–46 ms per MiB
 * on its own through its asynchronous whole-file API (over the 20 ms budget for every detector together), so
 * its formats are restated here as token-anchored expressions that run in a few milliseconds.
 *
 * Offsets are UTF-16 code units of the scanned string (JavaScript string indices), end exclusive.
 */

export const BUILT_IN_DETECTORS = ['email', 'phone', 'credit_card', 'iban', 'us_ssn', 'secret'] as const;
export type BuiltInDetector = (typeof BUILT_IN_DETECTORS)[number];
export const DETECTORS = [...BUILT_IN_DETECTORS, 'custom'] as const;
export type Detector = (typeof DETECTORS)[number];

export interface Span {
  start: number;
  end: number;
}

/** Something that finds spans in a string: a built-in detector or a compiled custom pattern. */
export type SpanFinder = (text: string) => Span[];

// ---------------------------------------------------------------------------------------------- checksums

/** Luhn (mod 10) over a string of digits. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** IBAN lengths by country (ISO 13616 registry). */
const IBAN_LENGTHS: Record<string, number> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BI: 27, BR: 29, BY: 28, CH: 21,
  CR: 22, CY: 28, CZ: 24, DE: 22, DJ: 27, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18, FK: 18, FO: 18,
  FR: 27, GB: 22, GE: 22, GI: 23, GL: 18, GR: 27, GT: 28, HR: 21, HU: 28, IE: 22, IL: 23, IQ: 23, IS: 26,
  IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28, LC: 32, LI: 21, LT: 20, LU: 20, LV: 21, LY: 25, MC: 27, MD: 24,
  ME: 22, MK: 19, MN: 20, MR: 27, MT: 31, MU: 30, NI: 28, NL: 18, NO: 15, OM: 23, PK: 24, PL: 28, PS: 29,
  QA: 29, RO: 24, RS: 22, RU: 33, SA: 24, SC: 31, SD: 18, SE: 24, SI: 19, SK: 24, SM: 27, SO: 23, ST: 25,
  SV: 28, TL: 23, TN: 24, TR: 26, UA: 29, VA: 22, VG: 24, XK: 20, YE: 30,
}; // prettier-ignore

/** ISO 7064 mod-97-10 of an IBAN without spaces (upper case), with the country's registered length. */
export function ibanValid(iban: string): boolean {
  if (IBAN_LENGTHS[iban.slice(0, 2)] !== iban.length) return false;
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let remainder = 0;
  for (let i = 0; i < rearranged.length; i++) {
    const c = rearranged.charCodeAt(i);
    if (c >= 48 && c <= 57) remainder = (remainder * 10 + (c - 48)) % 97;
    else remainder = (remainder * 100 + (c - 55)) % 97; // A = 10 … Z = 35
  }
  return remainder === 1;
}

// ---------------------------------------------------------------------------------------------- detectors

function spans(re: RegExp, text: string, accept: (match: RegExpExecArray) => boolean = () => true): Span[] {
  const out: Span[] = [];
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    if (accept(m)) out.push({ start: m.index, end: m.index + m[0].length });
    else re.lastIndex = m.index + 1;
  }
  return out;
}

const digitsOf = (s: string) => s.replace(/\D/g, '');

// A card number: 13–19 digits, optionally grouped by single spaces or dashes, not inside a longer number.
const CARD = /(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d])/g;
/** Issuer prefixes of the payment networks (Visa, Mastercard, Amex, Discover, JCB, Diners, UnionPay, Maestro). */
const CARD_PREFIX = /^(?:4|5[1-5]|2[2-7]|3[47]|3[0689]|6|50|5[6-9])/;

function creditCards(text: string): Span[] {
  return spans(CARD, text, (m) => {
    const digits = digitsOf(m[0]);
    return CARD_PREFIX.test(digits) && luhnValid(digits);
  });
}

// Country code, check digits, then 11–30 letters or digits, optionally in groups separated by single spaces.
const IBAN = /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}(?![A-Za-z0-9])/g;

function ibans(text: string): Span[] {
  const out: Span[] = [];
  IBAN.lastIndex = 0;
  for (let m = IBAN.exec(text); m !== null; m = IBAN.exec(text)) {
    // The greedy form may have taken a following word ("… DE89 3704 0044 0532 0130 00 PAID"): try shorter
    // groupings down to the country's length.
    const compact = m[0].replace(/ /g, '');
    const want = IBAN_LENGTHS[compact.slice(0, 2)];
    if (want !== undefined && compact.length >= want && ibanValid(compact.slice(0, want))) {
      let end = m.index;
      for (let seen = 0; seen < want; end++) if (text[end] !== ' ') seen++;
      out.push({ start: m.index, end });
      IBAN.lastIndex = end;
    } else {
      IBAN.lastIndex = m.index + 1;
    }
  }
  return out;
}

// US social security numbers, written with dashes; never area 000, 666 or 9xx, group 00 or serial 0000.
const SSN = /(?<![\d-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\d-])/g;

function ssns(text: string): Span[] {
  return spans(SSN, text);
}

// International numbers (+ and 8–15 digits, single separators) and North American ones written with separators.
const PHONE_INTL = /(?<![\w+])\+[1-9](?:[ .-]?\(?\d\)?){7,14}(?![\d])/g;
const PHONE_NANP = /(?<![\w+(-])(?:\(\d{3}\) ?|\d{3}[-.])\d{3}[-.]\d{4}(?![\d-])/g;

function phones(text: string): Span[] {
  const intl = spans(PHONE_INTL, text, (m) => {
    const n = digitsOf(m[0]).length;
    return n >= 8 && n <= 15;
  });
  return mergeSorted([...intl, ...spans(PHONE_NANP, text)]);
}

const LOCAL_CHAR = /[A-Za-z0-9._%+-]/;
const DOMAIN_CHAR = /[A-Za-z0-9.-]/;

/** The e-mail address around the `@` at `at`, if there is one. */
function emailAt(text: string, at: number): Span | null {
  let start = at;
  while (start > 0 && at - start < 64 && LOCAL_CHAR.test(text[start - 1])) start--;
  if (start === at || text[start] === '.') return null;
  let end = at + 1;
  while (end < text.length && end - at <= 253 && DOMAIN_CHAR.test(text[end])) end++;
  while (end > at + 1 && (text[end - 1] === '.' || text[end - 1] === '-')) end--;
  const domain = text.slice(at + 1, end);
  const dot = domain.lastIndexOf('.');
  if (dot <= 0 || !/^[A-Za-z]{2,24}$/.test(domain.slice(dot + 1)) || domain.includes('..')) return null;
  return { start, end };
}

/** E-mail addresses, found from each `@` outwards (local part ≤ 64, domain ≤ 253 with a letter TLD). */
function emails(text: string): Span[] {
  const out: Span[] = [];
  for (let at = text.indexOf('@'); at !== -1;) {
    const span = emailAt(text, at);
    if (span) out.push(span);
    at = text.indexOf('@', span ? span.end : at + 1);
  }
  return out;
}

const PEM_BEGIN = /-----BEGIN (?:[A-Z0-9]{1,20} ){0,3}PRIVATE KEY(?: BLOCK)?-----/g;
const PEM_END = /-----END (?:[A-Z0-9]{1,20} ){0,3}PRIVATE KEY(?: BLOCK)?-----/g;

/** PEM private keys: the whole block from its BEGIN line to its END line (or the base64 after a lone BEGIN). */
function pemKeys(text: string): Span[] {
  const out: Span[] = [];
  // The next END line and the next NUL (the separator of joined strings) are looked up once per position
  // passed, not once per BEGIN, so a text of many BEGIN lines stays linear.
  let end: RegExpExecArray | null | undefined;
  let nul = -2;
  PEM_BEGIN.lastIndex = 0;
  for (let m = PEM_BEGIN.exec(text); m !== null; m = PEM_BEGIN.exec(text)) {
    const bodyFrom = m.index + m[0].length;
    if (end === undefined || (end !== null && end.index < bodyFrom)) {
      PEM_END.lastIndex = bodyFrom;
      end = PEM_END.exec(text);
    }
    if (nul !== -1 && nul < bodyFrom) nul = text.indexOf('\u0000', bodyFrom);
    let stop: number;
    if (end && (nul === -1 || end.index < nul)) {
      stop = end.index + end[0].length;
    } else {
      stop = bodyFrom;
      while (stop < text.length && /[A-Za-z0-9+/=\s]/.test(text[stop])) stop++;
    }
    out.push({ start: m.index, end: stop });
    PEM_BEGIN.lastIndex = stop;
  }
  return out;
}

/**
 * The secret kinds: one list for DLP's `secret` detector (every kind's spans) and for the marketplace's listing
 * check (`findSecrets` in src/listings/listing-scanner.ts names the kinds a string holds). Each format starts with a
 * literal (so the engine searches for it rather than trying every position) and its repetitions are bounded
 * (≤ 250 characters per attempt) or entered once per token. Where a match may start is checked on the match:
 * at the start of a token (`token`: no `[A-Za-z0-9_-]` before it), of a word (`word`: no `[A-Za-z0-9_]` before
 * it, so `key-sk_live_…` counts, as `\b` allows), or as the expression itself says (`any`: the JWT's look-behind,
 * which lets its long repetitions be entered once per run of key-like characters; a named AWS secret key).
 */
const B = '(?<![A-Za-z0-9_-])';
const TOKEN_CHAR = /[A-Za-z0-9_-]/;
const WORD_CHAR = /[A-Za-z0-9_]/;
type Start = 'token' | 'word' | 'any';
const STARTS: Record<Start, (text: string, index: number) => boolean> = {
  token: (text, index) => index === 0 || !TOKEN_CHAR.test(text[index - 1]),
  word: (text, index) => index === 0 || !WORD_CHAR.test(text[index - 1]),
  any: () => true,
};

/** A format: a global expression and where its matches may start. */
interface Format {
  re: RegExp;
  start: Start;
}
const at = (start: Start, re: RegExp): Format => ({ start, re });

/** Whether the scan of `format` finds a match (the same scan as `spans`, ending at the first accepted match). */
function occurs({ re, start }: Format, text: string): boolean {
  const accept = STARTS[start];
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    if (accept(text, m.index)) return true;
    re.lastIndex = m.index + 1;
  }
  return false;
}

/** A kind of secret: its name (`aws_access_key`, reported by the listing check; never the value) and its finders. */
export interface SecretKind {
  kind: string;
  find: SpanFinder;
  /** Whether `find` finds anything (without collecting every span). */
  occursIn: (text: string) => boolean;
}

const formats = (...list: Format[]): Pick<SecretKind, 'find' | 'occursIn'> => ({
  find: (text) => list.flatMap(({ re, start }) => spans(re, text, (m) => STARTS[start](text, m.index))),
  occursIn: (text) => list.some((format) => occurs(format, text)),
});

export const SECRET_KINDS: readonly SecretKind[] = [
  // Tenantry's own API keys and Stripe's live keys (secret and restricted)
  { kind: 'live_api_key', ...formats(at('word', /[rs]k_live_[0-9A-Za-z_-]{8,250}/g)) },
  {
    kind: 'pem_private_key',
    find: pemKeys,
    occursIn: (text) => {
      PEM_BEGIN.lastIndex = 0;
      return PEM_BEGIN.test(text);
    },
  },
  // AWS access key ids
  {
    kind: 'aws_access_key',
    ...formats(
      at('word', /(?:AKIA|ASIA|ABIA|ACCA|AROA|AIDA|AGPA|ANPA|ANVA|AIPA)[0-9A-Z]{16}(?![0-9A-Za-z])/g),
    ),
  },
  // JSON Web Tokens (header and payload are base64url JSON objects: `eyJ`)
  {
    kind: 'jwt',
    ...formats(
      at(
        'any',
        new RegExp(`${B}eyJ[A-Za-z0-9_-]{5,8000}\\.eyJ[A-Za-z0-9_-]{5,64000}\\.[A-Za-z0-9_-]{10,1000}`, 'g'),
      ),
    ),
  },
  // GitHub tokens (classic and fine-grained)
  {
    kind: 'github_token',
    ...formats(
      at('word', /gh[pousr]_[A-Za-z0-9]{36,}(?![A-Za-z0-9])/g),
      at('word', /github_pat_[A-Za-z0-9_]{40,}/g),
    ),
  },
  // Slack tokens
  { kind: 'slack_token', ...formats(at('word', /xox[abposr]-[A-Za-z0-9-]{10,}/g)) },
  // Google API keys
  { kind: 'google_api_key', ...formats(at('word', /AIza[0-9A-Za-z_-]{35}(?:(?![0-9A-Za-z_-])|\b)/g)) },
  // Stripe test keys (secret and restricted)
  { kind: 'test_api_key', ...formats(at('token', /[rs]k_test_[0-9A-Za-z]{16,247}(?![0-9A-Za-z])/g)) },
  // AWS secret access keys, where they are named
  {
    kind: 'aws_secret_key',
    ...formats(
      at(
        'any',
        /aws_?secret_?(?:access_?)?key["']?\s{0,5}[:=]\s{0,5}["']?[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+])/gi,
      ),
    ),
  },
  // GitLab personal access tokens
  { kind: 'gitlab_token', ...formats(at('token', /glpat-[A-Za-z0-9_-]{20}(?![A-Za-z0-9_-])/g)) },
  // OpenAI and Anthropic API keys
  {
    kind: 'ai_api_key',
    ...formats(at('token', /sk-(?:proj-|ant-(?:api|admin)\d\d-)?[A-Za-z0-9_-]{32,250}(?![A-Za-z0-9_-])/g)),
  },
  // SendGrid
  {
    kind: 'sendgrid_api_key',
    ...formats(at('token', /SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/g)),
  },
  // npm access tokens
  { kind: 'npm_token', ...formats(at('token', /npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])/g)) },
];

/** The kinds of secret in `text`, in list order. */
export function secretKinds(text: string): string[] {
  return SECRET_KINDS.filter(({ occursIn }) => occursIn(text)).map(({ kind }) => kind);
}

function secrets(text: string): Span[] {
  return mergeSorted(SECRET_KINDS.flatMap(({ find }) => find(text)));
}

/** Sorts spans and merges overlapping ones. */
export function mergeSorted(list: Span[]): Span[] {
  if (list.length < 2) return list;
  list.sort((a, b) => a.start - b.start || b.end - a.end);
  const out: Span[] = [list[0]];
  for (let i = 1; i < list.length; i++) {
    const last = out[out.length - 1];
    if (list[i].start < last.end) last.end = Math.max(last.end, list[i].end);
    else out.push(list[i]);
  }
  return out;
}

/** Cheap screens: a detector whose screen fails on a string cannot match in it. */
const SCREENS: Record<BuiltInDetector, (text: string) => boolean> = {
  email: (t) => t.includes('@'),
  phone: (t) => /\d{3}/.test(t),
  credit_card: (t) => /\d{4}/.test(t),
  iban: (t) => /[A-Z]{2}\d{2}/.test(t),
  us_ssn: (t) => t.includes('-'),
  secret: () => true,
};

const FINDERS: Record<BuiltInDetector, SpanFinder> = {
  email: emails,
  phone: phones,
  credit_card: creditCards,
  iban: ibans,
  us_ssn: ssns,
  secret: secrets,
};

/** The finder of a built-in detector. */
export function builtInFinder(detector: BuiltInDetector): SpanFinder {
  const find = FINDERS[detector];
  const screen = SCREENS[detector];
  return (text) => (screen(text) ? find(text) : []);
}
