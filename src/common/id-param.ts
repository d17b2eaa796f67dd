import { Param, ParseUUIDPipe } from '@nestjs/common';
import { Errors } from './errors/app-error.js';

/** A path id that must be a UUID (400 otherwise, naming the parameter). */
export function IdParam(name = 'id'): ParameterDecorator {
  return Param(name, new ParseUUIDPipe({ exceptionFactory: () => Errors.field(name, 'must be a UUID') }));
}
