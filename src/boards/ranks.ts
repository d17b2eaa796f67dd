import { generateKeyBetween, generateNKeysBetween } from 'fractional-indexing';

/**
 * A fractional key strictly between `before` and `after` (either may be null: the open end). Keys of rows
 * written concurrently at the same spot can tie; lists then order ties by id, and a key asked for between two
 * equal keys is placed right after them instead (`generateKeyBetween` refuses a ≥ b).
 */
export function rankBetween(before: string | null, after: string | null): string {
  if (before !== null && after !== null && before >= after) return generateKeyBetween(before, null);
  return generateKeyBetween(before, after);
}

/** `n` ascending keys for a new list (a new board's columns). */
export function initialRanks(n: number): string[] {
  return generateNKeysBetween(null, null, n);
}

/** Compares two ranks bytewise, as PostgreSQL's `COLLATE "C"` does (JavaScript's `<` on ASCII keys). */
export function compareRanks(a: { rank: string; id: string }, b: { rank: string; id: string }): number {
  if (a.rank !== b.rank) return a.rank < b.rank ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
