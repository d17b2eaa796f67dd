import { describe, expect, it } from 'vitest';
import {
  endpointForAudit,
  endpointOrigin,
  isToolId,
  parseAuthScheme,
  parseEndpointUrl,
  secretProblem,
} from './connector-rules.js';

describe('connector rules', () => {
  it('accepts lowercase dotted tool ids only', () => {
    for (const ok of ['crm.lookup', 'billing.invoices.create', 'a.b', 'erp_v2.orders-sync']) {
      expect(isToolId(ok), ok).toBe(true);
    }
    for (const bad of [
      'crm',
      'CRM.lookup',
      'crm..lookup',
      '.crm',
      'crm.',
      '1crm.x',
      'crm.1x',
      'crm lookup.x',
      `a.${'b'.repeat(99)}`,
    ]) {
      expect(isToolId(bad), bad).toBe(false);
    }
  });

  it('parses auth schemes and refuses reserved or malformed header names', () => {
    expect(parseAuthScheme('none')).toEqual({ kind: 'none' });
    expect(parseAuthScheme('bearer')).toEqual({ kind: 'bearer' });
    expect(parseAuthScheme('basic')).toEqual({ kind: 'basic' });
    expect(parseAuthScheme('header:X-Api-Key')).toEqual({ kind: 'header', name: 'x-api-key' });
    expect(parseAuthScheme('header:authorization')).toEqual({ kind: 'header', name: 'authorization' });
    for (const bad of [
      'Bearer',
      'oauth',
      'header:',
      'header:x y',
      'header:x:y',
      'header:Host',
      'header:content-length',
      'header:Transfer-Encoding',
      'header:connection',
      'header:idempotency-key',
      `header:${'x'.repeat(101)}`,
    ]) {
      expect(parseAuthScheme(bad), bad).toHaveProperty('error');
    }
  });

  it('checks secrets against their scheme without ever echoing them', () => {
    const bearer = { kind: 'bearer' } as const;
    const basic = { kind: 'basic' } as const;
    expect(secretProblem(bearer, 'tok_123')).toBeUndefined();
    expect(secretProblem(basic, 'ann:pässwörd:with:colons')).toBeUndefined();
    expect(secretProblem(basic, 'no-colon')).toMatch(/user:password/);
    expect(secretProblem(basic, ':password')).toMatch(/user:password/);
    expect(secretProblem({ kind: 'none' }, 'x')).toMatch(/none/);
    expect(secretProblem(bearer, '')).toMatch(/empty/);
    expect(secretProblem(bearer, 'a\r\nX-Injected: 1')).toMatch(/control/);
    expect(secretProblem(bearer, 'tök')).toMatch(/ASCII/);
    expect(secretProblem(bearer, 'x'.repeat(8192))).toBeUndefined();
    expect(secretProblem(bearer, 'x'.repeat(8193))).toMatch(/8192 bytes/);
    expect(secretProblem(basic, `u:${'ö'.repeat(4096)}`)).toMatch(/8192 bytes/);
    for (const secret of ['no-colon', 'a\r\nb', 'tök', 'x'.repeat(9000)]) {
      expect(secretProblem(secret.includes(':') ? bearer : basic, secret) ?? '').not.toContain(secret);
    }
  });

  it('parses endpoint URLs: http(s) only, no credentials, no whitespace, with a host', () => {
    const ok = parseEndpointUrl('https://API.example.com./v1/lookup?x=1');
    expect(ok).not.toHaveProperty('error');
    expect((ok as { hostname: string }).hostname).toBe('api.example.com');
    expect((parseEndpointUrl('http://[::1]:8080/') as { hostname: string }).hostname).toBe('::1');
    for (const bad of [
      'javascript:alert(1)',
      'file:///etc/passwd',
      'ftp://example.com/',
      'gopher://example.com/',
      'data:text/plain,hi',
      '//example.com/x',
      'example.com/x',
      'not a url',
      'https://user:pass@example.com/',
      'https://user@example.com/',
      'https://exa mple.com/',
      'https://example.com/\n',
      'https://example.com:0/',
      `https://example.com/${'a'.repeat(2048)}`,
    ]) {
      expect(parseEndpointUrl(bad), bad).toHaveProperty('error');
    }
  });

  it('derives the origin a secret is bound to, and an audit form without the query', () => {
    expect(endpointOrigin('https://example.com/a?b=1')).toBe('https://example.com');
    expect(endpointOrigin('https://example.com:443/a')).toBe('https://example.com');
    expect(endpointOrigin('http://example.com:8080/a')).toBe('http://example.com:8080');
    expect(endpointForAudit('https://example.com/hook?token=abc')).toBe('https://example.com/hook');
  });
});
