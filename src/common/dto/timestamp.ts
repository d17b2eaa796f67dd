import { applyDecorators } from '@nestjs/common';
import { IsISO8601, ValidateBy, type ValidationOptions } from 'class-validator';

/**
 * A date-time field stored as a timestamp: ISO 8601 text that `Date` reads. Week dates (`2026-W01-1`), ordinal
 * dates (`2026-032`), the basic format (`20260101T000000Z`), an hour without minutes or a decimal comma are ISO 8601
 * too, but `Date` cannot read them: refused with 400 instead of stored as an invalid date (a 500) or dropped.
 */
export function IsTimestamp(options?: ValidationOptions): PropertyDecorator {
  return applyDecorators(
    IsISO8601({ strict: true }, options),
    ValidateBy(
      {
        name: 'isTimestamp',
        validator: {
          validate: (value: unknown) => typeof value === 'string' && !Number.isNaN(Date.parse(value)),
          defaultMessage: (args) =>
            `${args?.property ?? 'value'} must be a date-time such as 2026-12-31T17:00:00Z (RFC 3339)`,
        },
      },
      options,
    ),
  );
}
