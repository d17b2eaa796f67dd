import { expect } from 'vitest';
import type { Response } from 'supertest';
import type { ErrorCode } from '../../src/common/errors/app-error.js';

/** Asserts an RFC 9457 problem+json response with the given status and code. */
export function expectProblem(res: Response, status: number, code: ErrorCode): void {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ status, code });
  expect(typeof res.body.requestId).toBe('string');
  expect(res.headers['x-request-id']).toBe(res.body.requestId);
  expect(typeof res.body.detail).toBe('string');
}

/** The body of a problem without its request id: two 404s must be identical apart from it. */
export function withoutRequestId(body: Record<string, unknown>): Record<string, unknown> {
  const { requestId: _requestId, ...rest } = body;
  void _requestId;
  return rest;
}
