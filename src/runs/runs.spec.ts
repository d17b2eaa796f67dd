import { DeadlockException } from '@mikro-orm/core';
import { describe, expect, it } from 'vitest';
import { compileInputSchema, type TemplateStep } from '../templates/definition.js';
import { monthOf } from './run-budget.js';
import { retryTransient } from './run-leases.js';
import { DEFAULT_STEP_RETRIES, maxAttempts } from './run-transitions.js';
import { inputFieldErrors } from './runs.service.js';

describe('run rules', () => {
  it('names every input error by its path under input.', () => {
    const validate = compileInputSchema({
      type: 'object',
      required: ['id'],
      properties: {
        id: { type: 'string' },
        'a/b': { type: 'integer' },
        address: {
          type: 'object',
          required: ['zip'],
          properties: { zip: { type: 'string', pattern: '^[0-9]{5}$' } },
          additionalProperties: false,
        },
        tags: { type: 'array', items: { type: 'string' } },
      },
      additionalProperties: false,
    });
    expect(validate({ 'a/b': 'x', address: { zip: 'abc', extra: 1 }, tags: ['ok', 3], more: true })).toBe(
      false,
    );
    const fields = inputFieldErrors(validate.errors ?? []).map((e) => e.field);
    expect(fields.sort()).toEqual(
      [
        'input.a/b',
        'input.address.extra',
        'input.address.zip',
        'input.id',
        'input.more',
        'input.tags.1',
      ].sort(),
    );
    expect(inputFieldErrors(validate.errors ?? []).find((e) => e.field === 'input.id')?.message).toBe(
      'is required',
    );
  });

  it('counts the budget per UTC month', () => {
    expect(monthOf(new Date('2026-11-30T23:59:59.999Z'))).toBe('2026-11');
    expect(monthOf(new Date('2026-12-01T00:00:00.000Z'))).toBe('2026-12');
    expect(monthOf(new Date('2027-01-01T00:30:00+01:00'))).toBe('2026-12');
  });

  it('gives a tool step its retries plus one attempts (two retries when it declares none)', () => {
    const tool = (retries?: number): TemplateStep => ({
      id: 'x',
      kind: 'tool',
      name: 'x',
      toolId: 'a.b',
      ...(retries === undefined ? {} : { retries }),
    });
    expect(maxAttempts(tool())).toBe(DEFAULT_STEP_RETRIES + 1);
    expect(maxAttempts(tool(0))).toBe(1);
    expect(maxAttempts(tool(5))).toBe(6);
  });

  it('runs a transaction again when it was a deadlock victim, a few times at most', async () => {
    let calls = 0;
    const deadlock = () =>
      new DeadlockException(Object.assign(new Error('deadlock detected'), { code: '40P01' }));
    await expect(
      retryTransient(async () => {
        calls += 1;
        if (calls < 3) throw deadlock();
        return 'done';
      }),
    ).resolves.toBe('done');
    calls = 0;
    await expect(
      retryTransient(async () => {
        calls += 1;
        throw deadlock();
      }),
    ).rejects.toBeInstanceOf(DeadlockException);
    expect(calls).toBe(3);
    calls = 0;
    await expect(
      retryTransient(async () => {
        calls += 1;
        throw new Error('not transient');
      }),
    ).rejects.toThrow('not transient');
    expect(calls).toBe(1);
  });
});
