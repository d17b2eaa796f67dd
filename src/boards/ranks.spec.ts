import { describe, expect, it } from 'vitest';
import { compareRanks, initialRanks, rankBetween } from './ranks.js';

describe('ranks', () => {
  it('orders keys between neighbours and at both ends', () => {
    const [a, b, c] = initialRanks(3);
    expect(a < b && b < c).toBe(true);
    const mid = rankBetween(a, b);
    expect(a < mid && mid < b).toBe(true);
    expect(rankBetween(null, a) < a).toBe(true);
    expect(rankBetween(c, null) > c).toBe(true);
  });

  it('keeps inserting at the same spot without renumbering', () => {
    let low = rankBetween(null, null);
    const high = rankBetween(low, null);
    for (let i = 0; i < 200; i++) {
      const next = rankBetween(low, high);
      expect(low < next && next < high).toBe(true);
      low = next;
    }
  });

  it('places a key asked for between tied keys right after them', () => {
    const k = rankBetween(null, null);
    expect(rankBetween(k, k) > k).toBe(true);
  });

  it('compares bytewise, ties by id', () => {
    expect(compareRanks({ rank: 'Z', id: '1' }, { rank: 'a', id: '0' })).toBeLessThan(0);
    expect(compareRanks({ rank: 'a', id: '1' }, { rank: 'a', id: '2' })).toBeLessThan(0);
  });
});
