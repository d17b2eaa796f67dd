import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** Six base62 digits hold any CRC32 (62⁶ ≈ 5.7·10¹⁰ > 2³²). */
export const CHECKSUM_LENGTH = 6;

/** `length` uniformly random base62 characters (rejection sampling: no modulo bias). */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      // 248 = 4 · 62: bytes above it would favour the first characters.
      if (byte < 248) out += BASE62[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

function base62(value: number, width: number): string {
  let out = '';
  let n = value;
  do {
    out = BASE62[n % 62] + out;
    n = Math.floor(n / 62);
  } while (n > 0);
  return out.padStart(width, '0');
}

/** CRC32 of `text`, as six base62 digits. */
export function checksumOf(text: string): string {
  return base62(crc32(text), CHECKSUM_LENGTH);
}

/**
 * A secret of the form `<prefix><random>_<checksum>`, the checksum being the CRC32 of everything before the
 * last underscore (GitHub's token format). Secret scanners recognise it by the prefix and confirm it offline by
 * the checksum; the server rejects a mistyped or truncated secret before any database lookup.
 */
export class ChecksummedSecretFormat {
  private readonly pattern: RegExp;

  constructor(
    readonly prefix: string,
    readonly randomLength: number,
  ) {
    const escaped = prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    this.pattern = new RegExp(`^${escaped}[0-9A-Za-z]{${randomLength}}_[0-9A-Za-z]{${CHECKSUM_LENGTH}}$`);
  }

  /** The total length of a secret of this format. */
  get length(): number {
    return this.prefix.length + this.randomLength + 1 + CHECKSUM_LENGTH;
  }

  mint(): string {
    const body = `${this.prefix}${randomBase62(this.randomLength)}`;
    return `${body}_${checksumOf(body)}`;
  }

  /** True when `raw` has this format and its checksum matches. Constant work for any input of the right size. */
  isWellFormed(raw: string): boolean {
    if (raw.length !== this.length || !this.pattern.test(raw)) return false;
    const cut = raw.length - CHECKSUM_LENGTH - 1;
    return checksumOf(raw.slice(0, cut)) === raw.slice(cut + 1);
  }
}
