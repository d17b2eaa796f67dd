import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * Authenticated encryption for secrets at rest (AES-256-GCM), used twice over (envelope encryption):
 * a company's data key encrypts its connector secrets, and the master key from configuration wraps each data key.
 *
 * A sealed value is one string, `v1:<iv>:<tag>:<ciphertext>` (base64 parts), with a 96-bit random IV per value.
 * The additional authenticated data (AAD) binds a ciphertext to where it belongs (company, connector): copied to
 * another row or company, it no longer decrypts.
 */
const ALGORITHM = 'aes-256-gcm';
const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const KEY_BYTES = 32;

/** A sealed value that is malformed, or does not authenticate under this key and AAD. Never says which. */
export class SecretBoxError extends Error {
  constructor(message = 'The sealed value cannot be decrypted with this key and context') {
    super(message);
    this.name = 'SecretBoxError';
  }
}

function checkKey(key: Buffer): void {
  if (key.length !== KEY_BYTES) throw new SecretBoxError(`Keys are ${KEY_BYTES} bytes`);
}

/** Encrypts `plaintext` under `key`, bound to `aad`. */
export function seal(key: Buffer, plaintext: Buffer, aad: string): string {
  checkKey(key);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [VERSION, iv.toString('base64'), tag.toString('base64'), ciphertext.toString('base64')].join(':');
}

/** Decrypts a value made by `seal` with the same key and AAD; throws `SecretBoxError` otherwise. */
export function open(key: Buffer, sealed: string, aad: string): Buffer {
  checkKey(key);
  const parts = sealed.split(':');
  if (parts.length !== 4 || parts[0] !== VERSION) throw new SecretBoxError('Unknown sealed-value format');
  const [, ivB64, tagB64, ctB64] = parts;
  const iv = Buffer.from(ivB64, 'base64');
  const tag = Buffer.from(tagB64, 'base64');
  const ciphertext = Buffer.from(ctB64, 'base64');
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new SecretBoxError('Malformed sealed value');
  try {
    const decipher = createDecipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch {
    throw new SecretBoxError();
  }
}

/** A new random data key. */
export function newDataKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

/**
 * A short public identifier of a master key (16 hex characters of a domain-separated SHA-256), stored beside
 * every data key it wraps, so rotation can tell which keys are already re-wrapped. It reveals nothing usable
 * about a 256-bit random key.
 */
export function masterKeyId(masterKey: Buffer): string {
  checkKey(masterKey);
  return createHash('sha256')
    .update('tenantry/master-key-id/v1\0')
    .update(masterKey)
    .digest('hex')
    .slice(0, 16);
}

/** What each sealed value is bound to. Changing these strings makes every stored value undecryptable. */
export const AAD = {
  /** A company's data key, wrapped by the master key. */
  dataKey: (companyId: string) => `tenantry/data-key/v1/${companyId}`,
  /** A connector's secret, encrypted by its company's data key. */
  connectorSecret: (companyId: string, connectorId: string) =>
    `tenantry/connector-secret/v1/${companyId}/${connectorId}`,
  /** A response kept for an idempotent replay (it may hold a secret shown once), by its company's data key. */
  idempotencyResponse: (companyId: string, recordId: string) =>
    `tenantry/idempotency-response/v1/${companyId}/${recordId}`,
} as const;
