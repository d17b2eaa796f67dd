import { Errors } from './errors/app-error.js';

/** The ETag of a versioned row: its version, quoted (a strong validator). */
export function etagOf(version: number): string {
  return `"${version}"`;
}

/**
 * Reads `If-Match` (RFC 9110 §13.1.1) into the versions it names: 428 when absent or `*` (a write must say
 * which version it saw). Shared by every versioned resource (cards, wiki pages). Weak (`W/"3"`) and unquoted (`3`) forms are read as the same version; a tag that is
 * no version of ours matches nothing (412 later).
 */
export function requiredVersions(header: string | string[] | undefined): number[] {
  const raw = (Array.isArray(header) ? header.join(',') : (header ?? '')).trim();
  if (raw === '' || raw === '*') {
    throw Errors.preconditionRequired(
      'This write needs If-Match with the version you last read (the ETag of GET), e.g. If-Match: "3"',
    );
  }
  const versions: number[] = [];
  for (const part of raw.split(',')) {
    const m = /^\s*(?:W\/)?"?(\d{1,9})"?\s*$/.exec(part);
    if (m) versions.push(Number(m[1]));
  }
  return versions;
}
