import { Injectable, ValidationPipe, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import type { ValidationError } from 'class-validator';
import { Errors, type FieldError } from './errors/app-error.js';

function flatten(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((e) => {
    const field = parent ? `${parent}.${e.property}` : e.property;
    const own = Object.entries(e.constraints ?? {}).map(([rule, message]) => ({
      field,
      message: rule === 'whitelistValidation' ? `${field} is not an accepted field` : message,
    }));
    return [...own, ...flatten(e.children ?? [], field)];
  });
}

/** At most this many field errors in a problem (ProblemDto.errors declares the bound). */
const MAX_FIELD_ERRORS = 100;

const exceptionFactory = (errors: ValidationError[]) => {
  const list = flatten(errors).slice(0, MAX_FIELD_ERRORS);
  return Errors.validation(list.map((e) => e.message).join('; ') || 'Invalid input', list);
};

/**
 * The one validation pipe (APP_PIPE). Bodies are strict: a field the DTO does not declare (`companyId`,
 * `role` where not declared, anything) is refused with 400. Query strings are whitelisted instead: an
 * undeclared parameter such as `company_id` is dropped and changes nothing.
 */
@Injectable()
export class ApiValidationPipe implements PipeTransform {
  private readonly strict = new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    forbidUnknownValues: true,
    validationError: { target: false, value: false },
    exceptionFactory,
  });
  private readonly lenient = new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: false,
    transform: true,
    validationError: { target: false, value: false },
    exceptionFactory,
  });

  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type === 'body') {
      const isDto = typeof metadata.metatype === 'function' && metadata.metatype !== Object;
      if (isDto && (value === undefined || value === null || value === '')) value = {};
      if (isDto && (typeof value !== 'object' || Array.isArray(value))) {
        throw Errors.validation('The body must be a JSON object', [
          { field: 'body', message: 'must be a JSON object' },
        ]);
      }
      return this.strict.transform(value, metadata);
    }
    return this.lenient.transform(value, metadata);
  }
}
