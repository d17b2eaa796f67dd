import { Param, ParseUUIDPipe } from '@nestjs/common';
import { ApiParam } from '@nestjs/swagger';
import { Errors } from './errors/app-error.js';

/** A path id that must be a UUID (400 otherwise, naming the parameter); documented as one. */
export function IdParam(name = 'id'): ParameterDecorator {
  const param = Param(
    name,
    new ParseUUIDPipe({ exceptionFactory: () => Errors.field(name, 'must be a UUID') }),
  );
  return (target, key, index) => {
    param(target, key, index);
    const descriptor = key === undefined ? undefined : Object.getOwnPropertyDescriptor(target, key);
    if (key !== undefined && descriptor) {
      ApiParam({ name, schema: { type: 'string', format: 'uuid', maxLength: 36 } })(target, key, descriptor);
    }
  };
}
