import { DriverException } from '@mikro-orm/core';
import { describe, expect, it } from 'vitest';
import { ServiceUnavailableError } from './service-unavailable.js';
import { toProblem } from './to-problem.js';

const driverError = (code: string) =>
  new DriverException(Object.assign(new Error(`select … - boom ${code}`), { code }));

describe('toProblem', () => {
  it('answers 400, not 500, when the database cannot store a value (NUL in text, jsonb or the query)', () => {
    for (const code of ['22021', '22P05', '08P01']) {
      const rendered = toProblem(driverError(code), 'req-1');
      expect(rendered.body, code).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
      expect(rendered.serverFault).toBe(false);
      expect(rendered.body.detail).not.toContain('select');
    }
    // The driver's own error (reads that bypass the ORM) too.
    const raw = Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), {
      code: '22021',
      severity: 'ERROR',
    });
    expect(toProblem(raw, 'req-2').body).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    // Other database faults stay 500s.
    expect(toProblem(driverError('XX000'), 'req-3').body.status).toBe(500);
  });

  it('answers a service-unavailable fault 503 INTERNAL with Retry-After, logged, without its message', () => {
    const rendered = toProblem(
      new ServiceUnavailableError('key 0123456789abcdef is not configured', 17),
      'r',
    );
    expect(rendered.body).toMatchObject({ status: 503, code: 'INTERNAL', title: 'Service Unavailable' });
    expect(rendered.headers).toEqual({ 'Retry-After': '17' });
    expect(rendered.serverFault).toBe(true);
    expect(JSON.stringify(rendered.body)).not.toContain('0123456789abcdef');
  });
});
