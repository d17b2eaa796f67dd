import { Param, ParseUUIDPipe, type PipeTransform } from '@nestjs/common';
import { ApiParam } from '@nestjs/swagger';
import { canonicalUuid } from './dto/uuid.js';
import { Errors } from './errors/app-error.js';

/** After `ParseUUIDPipe`: the id in canonical case, as a body's ids are (`IsId`). */
const canonical: PipeTransform<string, string> = { transform: canonicalUuid };

/**
 * A path id that must be a UUID (400 otherwise, naming the parameter), handed on in lower case (an upper-case
 * spelling is the same id); documented as one.
 */
export function IdParam(name = 'id'): ParameterDecorator {
  const param = Param(
    name,
    new ParseUUIDPipe({ exceptionFactory: () => Errors.field(name, 'must be a UUID') }),
    canonical,
  );
  return (target, key, index) => {
    param(target, key, index);
    const descriptor = key === undefined ? undefined : Object.getOwnPropertyDescriptor(target, key);
    if (key !== undefined && descriptor) {
      ApiParam({ name, schema: { type: 'string', format: 'uuid', maxLength: 36 } })(target, key, descriptor);
    }
  };
}
