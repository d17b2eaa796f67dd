import { API_KEY_PREFIX } from '../authz/api-key-authenticator.js';
import { ChecksummedSecretFormat } from '../common/checksummed-secret.js';

/**
 * `sk_live_<30 base62>_<6 base62 CRC32>`: about 178 random bits, recognisable by secret scanners, and a typo or
 * truncation is refused before any database lookup.
 */
export const API_KEY_FORMAT = new ChecksummedSecretFormat(API_KEY_PREFIX, 30);

/** `sk_live_…a1b2`: how a stored key is shown. */
export function maskApiKey(last4: string): string {
  return `${API_KEY_PREFIX}…${last4}`;
}
