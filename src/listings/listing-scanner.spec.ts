import { describe, expect, it } from 'vitest';
import { findSecrets } from './listing-scanner.js';
import type { ListingSnapshot } from './listing.entity.js';

const base = (over: Partial<ListingSnapshot> = {}): ListingSnapshot => ({
  name: 'Invoice approval',
  description: 'Checks the vendor, then asks a manager',
  category: 'finance',
  inputSchema: { type: 'object', properties: { vendor: { type: 'string' } } },
  steps: [
    { id: 'ok', kind: 'approval', name: 'Approve', minRole: 'manager', prompt: 'Pay {{input.vendor}}?' },
  ],
  publisherName: 'Guild',
  summary: null,
  ...over,
});

describe('listing secret detectors', () => {
  it('finds nothing in ordinary text (precise, not greedy)', () => {
    expect(
      findSecrets(
        base({
          description:
            'Uses sk_live keys (never pasted here), AKIA-style ids, eyJ-prefixed tokens and BEGIN PUBLIC KEY blocks; ABCDEFGHIJKLMNOPQRST',
          summary: '-----BEGIN PUBLIC KEY----- is fine, so is a.b.c',
        }),
      ),
    ).toEqual([]);
  });

  it('names each finding by detector, kind and path', () => {
    const findings = findSecrets(
      base({
        summary: 'sk_live_51HxYzAbCdEfGh',
        steps: [
          {
            id: 'call',
            kind: 'tool',
            name: 'Call',
            toolId: 'erp.call',
            input: { auth: 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLXZhbHVl' },
          },
          {
            id: 'ok',
            kind: 'approval',
            name: 'Approve',
            minRole: 'manager',
            prompt: 'AKIAIOSFODNN7EXAMPLE and -----BEGIN OPENSSH PRIVATE KEY-----',
          },
        ],
      }),
    );
    expect(findings).toEqual([
      { detector: 'secret', kind: 'jwt', path: 'steps.0.input.auth' },
      { detector: 'secret', kind: 'pem_private_key', path: 'steps.1.prompt' },
      { detector: 'secret', kind: 'aws_access_key', path: 'steps.1.prompt' },
      { detector: 'secret', kind: 'live_api_key', path: 'summary' },
    ]);
  });

  it('scans object keys, and never puts a secret key into a path', () => {
    const findings = findSecrets(
      base({ inputSchema: { type: 'object', properties: { AKIAIOSFODNN7EXAMPLE: { type: 'string' } } } }),
    );
    expect(findings).toEqual([
      { detector: 'secret', kind: 'aws_access_key', path: 'inputSchema.properties.#0 (key)' },
    ]);
  });
});
