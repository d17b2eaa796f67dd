import { applyDecorators, createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { ProblemResponse } from '../authz/authorize.decorator.js';
import { IdempotencyErrors } from './idempotency.errors.js';

const VALID = /^[\x21-\x7e]{1,255}$/;

/** The header's schema in the OpenAPI document (what `VALID` accepts). */
export const IDEMPOTENCY_KEY_SCHEMA = { type: 'string', minLength: 1, maxLength: 255, pattern: VALID.source };

/** The request's `Idempotency-Key` header (1–255 visible ASCII characters; 400 otherwise), or undefined. */
export const IdempotencyKey = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): string | undefined => {
    const value = ctx.switchToHttp().getRequest<FastifyRequest>().headers['idempotency-key'];
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || !VALID.test(value)) {
      throw IdempotencyErrors.InvalidKey();
    }
    return value;
  },
);

/**
 * Documents the `Idempotency-Key` header and its 409 on a creating POST. `replays`: a retry answers the first
 * response again, secret included (`IdempotencyService.claimOrReplayResponse`); otherwise it answers 409.
 */
export function AcceptsIdempotencyKey(options: { replays?: boolean } = {}): MethodDecorator {
  return applyDecorators(
    ApiHeader({
      name: 'Idempotency-Key',
      required: false,
      schema: IDEMPOTENCY_KEY_SCHEMA,
      description: options.replays
        ? 'A unique value per intended creation (a UUID). A retry with the same key and body within 24 h ' +
          'creates nothing and answers 201 with the first response again, the secret included (and ' +
          '`Idempotent-Replayed: true`); once the key was revoked or rotated, 409 with `resourceId`. The same ' +
          'key with another body answers 409.'
        : 'A unique value per intended creation (a UUID). A retry with the same key within 24 h creates ' +
          'nothing and answers 409 with `resourceId`: the secret is shown once, never replayed.',
    }),
    ProblemResponse(
      409,
      options.replays
        ? 'The Idempotency-Key was used for a different request, or what it created was retired since ' +
            '(CONFLICT; then `resourceId` names it)'
        : 'The Idempotency-Key was already used (CONFLICT); `resourceId` names what it created',
    ),
  );
}
