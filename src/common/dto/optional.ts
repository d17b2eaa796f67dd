import { ValidateIf } from 'class-validator';

/**
 * An optional field whose absence and `null` are told apart. class-validator's `@IsOptional()` skips every
 * rule for `null` too, so `{"endpointUrl": null}` passed validation and reached the service as a value it never
 * expected (a 500). Body fields use one of these two instead:
 */

/** May be absent; when present it must pass its rules (`null` included, which they then refuse: 400). */
export const Optional = () => ValidateIf((_: object, value: unknown) => value !== undefined);

/** May be absent or `null` (where `null` means "clear" or "none", as documented on the field). */
export const OptionalOrNull = () =>
  ValidateIf((_: object, value: unknown) => value !== undefined && value !== null);
