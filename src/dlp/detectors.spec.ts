import { describe, expect, it } from 'vitest';
import { builtInFinder, ibanValid, luhnValid, type BuiltInDetector } from './detectors.js';
import { compilePolicy, findAll, walk, type DlpRule } from './dlp-scan.js';

const found = (detector: BuiltInDetector, text: string) =>
  builtInFinder(detector)(text).map((s) => text.slice(s.start, s.end));

export const SAMPLES = {
  card: '4111 1111 1111 1111',
  iban: 'DE89 3704 0044 0532 0130 00',
  ssn: '123-45-6789',
  jwt: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
  stripe: `sk_live_${'a1B2c3D4e5F6g7H8i9J0k1L2'}`,
  aws: 'AKIAZ7EXAMPLEKEY1234',
};

describe('DLP detectors', () => {
  it('check cards with Luhn and issuer prefixes', () => {
    expect(luhnValid('4111111111111111')).toBe(true);
    expect(luhnValid('4111111111111112')).toBe(false);
    expect(found('credit_card', `pay ${SAMPLES.card} now`)).toEqual([SAMPLES.card]);
    expect(found('credit_card', 'card 4111-1111-1111-1111.')).toEqual(['4111-1111-1111-1111']);
    expect(found('credit_card', 'order 4111111111111112')).toEqual([]);
    expect(found('credit_card', 'id 12345678901234567890123')).toEqual([]);
  });

  it('check IBANs with mod-97 and the country length', () => {
    expect(ibanValid('DE89370400440532013000')).toBe(true);
    expect(ibanValid('DE89370400440532013001')).toBe(false);
    expect(found('iban', `to ${SAMPLES.iban} PAID`)).toEqual([SAMPLES.iban]);
    expect(found('iban', 'GB82WEST12345698765432')).toEqual(['GB82WEST12345698765432']);
    expect(found('iban', 'DE89 3704 0044 0532 0130 01')).toEqual([]);
  });

  it('find SSNs outside reserved ranges, phones, e-mail addresses', () => {
    expect(found('us_ssn', `ssn ${SAMPLES.ssn}`)).toEqual([SAMPLES.ssn]);
    expect(found('us_ssn', '000-12-3456 666-12-3456 123-00-4567 2024-01-0101')).toEqual([]);
    expect(found('phone', 'call +44 20 7946 0958 or (415) 555-2671')).toEqual([
      '+44 20 7946 0958',
      '(415) 555-2671',
    ]);
    expect(found('phone', 'version 1.2.3, year 2024, 123-45-6789')).toEqual([]);
    expect(found('email', 'mail jane.doe+x@mail.example.co.uk, not a@b or @home')).toEqual([
      'jane.doe+x@mail.example.co.uk',
    ]);
  });

  it('find provider keys, JWTs and PEM private keys', () => {
    const pem = '-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAK\n-----END RSA PRIVATE KEY-----';
    const text = `a ${SAMPLES.stripe} b ${SAMPLES.aws} c ${SAMPLES.jwt} d ${pem} e ghp_${'x'.repeat(36)}`;
    expect(found('secret', text)).toEqual([
      SAMPLES.stripe,
      SAMPLES.aws,
      SAMPLES.jwt,
      pem,
      `ghp_${'x'.repeat(36)}`,
    ]);
    expect(found('secret', 'sk_live_short and eyJhbGciOi.not')).toEqual([]);
    const aws = `aws_secret_access_key = ${'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKE'}`;
    expect(found('secret', `my_${aws}`)).toEqual([aws]);
    expect(found('secret', `x${SAMPLES.stripe}`)).toEqual([]); // not at the start of a token
  });

  it('stay linear on hostile input', () => {
    for (const text of ['eyJ'.repeat(300_000), 'a'.repeat(1 << 20) + '@', '1 '.repeat(400_000)]) {
      const t0 = performance.now();
      for (const d of ['email', 'phone', 'credit_card', 'iban', 'us_ssn', 'secret'] as const) {
        builtInFinder(d)(text);
      }
      expect(performance.now() - t0).toBeLessThan(2000);
    }
  });
});

describe('DLP policy walk', () => {
  const rules: DlpRule[] = [
    { detector: 'credit_card', action: 'redact' },
    { detector: 'us_ssn', action: 'block', scopes: ['run_input'] },
    { detector: 'email', action: 'audit' },
    { detector: 'custom', action: 'redact', pattern: 'ACME-\\d{6}' },
  ];
  const policy = compilePolicy(rules);

  it('redacts inside objects and arrays and names field paths', () => {
    const input = { customer: { card: `c ${SAMPLES.card}`, mail: 'x@example.com' }, items: ['ACME-123456'] };
    const r = walk(policy.byScope.workspace, input, 'input');
    expect(r.blocked).toBe(false);
    expect(r.value).toEqual({
      customer: { card: 'c [REDACTED:credit_card]', mail: 'x@example.com' },
      items: ['[REDACTED:custom]'],
    });
    expect(input.customer.card).toContain('4111'); // the original is not changed
    expect(r.hits).toEqual([
      { detector: 'credit_card', action: 'redact', path: 'input.customer.card', count: 1 },
      { detector: 'email', action: 'audit', path: 'input.customer.mail', count: 1 },
      { detector: 'custom', action: 'redact', path: 'input.items.0', count: 1 },
    ]);
  });

  it('blocks only in the rule scopes, and never shows a matching key in a path', () => {
    expect(walk(policy.byScope.run_input, { s: SAMPLES.ssn }, 'input').blocked).toBe(true);
    expect(walk(policy.byScope.workspace, { s: SAMPLES.ssn }, 'input').blocked).toBe(false);
    const r = walk(policy.byScope.workspace, { [SAMPLES.card]: 'v' }, 'input');
    expect(r.hits[0].path).toBe('input.[REDACTED:credit_card]');
    expect(Object.keys(r.value)).toEqual(['[REDACTED:credit_card]']);
  });

  it('never joins two strings of a value into one match', () => {
    const pem = '-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----';
    const crossing = compilePolicy([
      { detector: 'credit_card', action: 'block' },
      { detector: 'secret', action: 'block' },
      { detector: 'custom', action: 'redact', pattern: 'A[\\s\\S]*Z' },
    ]).byScope.workspace;
    const r = walk(
      crossing,
      { a: '4111 1111', b: '1111 1111', c: '-----BEGIN PRIVATE KEY-----', d: 'x A y', e: 'Z' },
      '',
    );
    expect(r.blocked).toBe(true); // the lone BEGIN line
    expect(r.hits.map((h) => h.path)).toEqual(['c']);
    expect(walk(crossing, { d: 'x A y', e: 'Z', f: 'A..Z' }, '').value).toEqual({
      d: 'x A y',
      e: 'Z',
      f: '[REDACTED:custom]',
    });
    expect(walk(crossing, [pem], '').hits).toEqual([
      { detector: 'secret', action: 'block', path: '0', count: 1 },
    ]);
  });

  it('reports offsets for the test endpoint', () => {
    expect(findAll(policy.byScope.workspace, `x ${SAMPLES.card} ACME-000001`)).toEqual({
      findings: [
        { detector: 'credit_card', start: 2, end: 21 },
        { detector: 'custom', start: 22, end: 33 },
      ],
      truncated: false,
    });
  });

  it('bounds a custom pattern that matches almost anything: merged spans, a capped number of steps, fail closed', () => {
    const text = 'ab'.repeat(512 * 1024); // 1 MiB
    const every = compilePolicy([{ detector: 'custom', action: 'redact', pattern: '[ab]' }]);
    const started = performance.now();
    const merged = walk(every.byScope.workspace, { x1: text }, '');
    // Touching matches are one span: one redaction for the whole field.
    expect(merged.value).toEqual({ x1: '[REDACTED:custom]' });
    expect(merged.hits).toEqual([{ detector: 'custom', action: 'redact', path: 'x1', count: 1 }]);

    // Matches that do not touch: past the cap, the rest of the text is one match (redacted), not a million.
    const apart = compilePolicy([{ detector: 'custom', action: 'redact', pattern: 'a' }]);
    const capped = walk(apart.byScope.workspace, { x1: text }, '').value;
    expect(capped.x1.startsWith('[REDACTED:custom]b[REDACTED:custom]b')).toBe(true);
    expect(capped.x1.endsWith('b[REDACTED:custom]')).toBe(true);
    expect(capped.x1.length).toBeLessThan(20 * 10_001);
    // Empty matches count as steps as well (`x*` matches at every position).
    expect(
      walk(compilePolicy([{ detector: 'custom', action: 'audit', pattern: 'x*' }]).all, text, '').hits,
    ).toHaveLength(1);

    const listed = findAll(apart.all, text);
    expect(listed.findings).toHaveLength(1_000);
    expect(listed.truncated).toBe(true);
    // Not a timing assertion: a sanity bound far above the few tens of ms this takes (it took seconds before).
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});
