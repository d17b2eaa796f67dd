import { randomBase62, ChecksummedSecretFormat } from '../common/checksummed-secret.js';

/** Public client ids: `app_` and 24 base62 characters. */
export const CLIENT_ID_PATTERN = /^app_[0-9A-Za-z]{24}$/;

export function newClientId(): string {
  return `app_${randomBase62(24)}`;
}

/** Client secrets: `cs_live_<40 base62>_<CRC32>` (about 238 random bits; scanners can confirm the checksum). */
export const CLIENT_SECRET_FORMAT = new ChecksummedSecretFormat('cs_live_', 40);
