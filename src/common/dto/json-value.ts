import { BODY_LIMIT_BYTES } from '../json-body.js';

/**
 * The OpenAPI schema of "any JSON value" (a connector's input or answer). Its bounds follow from the 1 MiB
 * body limit: no string is longer and no array holds more items than a body of that size can carry.
 */
export const JSON_VALUE_SCHEMA = {
  oneOf: [
    { type: 'object', additionalProperties: true },
    { type: 'array', items: {}, maxItems: BODY_LIMIT_BYTES / 2 },
    { type: 'string', maxLength: BODY_LIMIT_BYTES },
    { type: 'number' },
    { type: 'boolean' },
  ],
};
