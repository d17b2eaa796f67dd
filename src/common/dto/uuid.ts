import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsUUID, type ValidationOptions } from 'class-validator';
import { isUuid } from '../ids.js';

/** A UUID as PostgreSQL prints it: hex digits in lower case (`A…` and `a…` are the same id). */
export function canonicalUuid(value: string): string {
  return value.toLowerCase();
}

/**
 * A body or query field holding an id: any UUID (400 otherwise), handed on in canonical (lower) case, so that a
 * service comparing it with stored ids — `afterCardId === id`, "the card's own column" — compares what PostgreSQL
 * compares, and an answer never echoes the caller's spelling of an id. Non-strings are left for `IsUUID` to refuse.
 * Documented as a UUID (the Swagger plugin sees `IsUUID` only where it is written out); whether the field is
 * required stays the field's own (`?`, `ApiPropertyOptional`).
 */
export function IsId(options?: ValidationOptions): PropertyDecorator {
  return applyDecorators(
    Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? canonicalUuid(value) : value)),
    IsUUID('all', options),
    ApiProperty({ format: 'uuid' }),
  );
}

/**
 * A field that holds an id or a name (`actorId`: a user's id or `system`): a UUID in it is handed on in canonical
 * case, like `IsId`'s, anything else as sent.
 */
export function CanonicalIfUuid(): PropertyDecorator {
  return Transform(({ value }: { value: unknown }) => (isUuid(value) ? canonicalUuid(value) : value));
}
