import { describe, expect, it } from 'vitest';
import { bucketOf, HISTOGRAM_SIZE, histogramOf, quantile, representative } from './duration-histogram.js';

describe('duration histogram', () => {
  it('puts a value in a bucket whose representative is within 10 %', () => {
    for (const ms of [1, 2, 3, 7, 50, 999, 1_000, 61_000, 3_600_000, 86_400_000]) {
      const rep = representative(bucketOf(ms));
      expect(Math.abs(rep - ms) / ms).toBeLessThan(0.1);
    }
    expect(bucketOf(0)).toBe(0);
    expect(bucketOf(-5)).toBe(0);
    expect(bucketOf(1e15)).toBe(HISTOGRAM_SIZE - 1);
  });

  it('answers nearest-rank percentiles of merged histograms', () => {
    const a = histogramOf([10, 20, 30]);
    const b = histogramOf([40, 1_000]);
    const merged = a.map((c, i) => c + b[i]);
    expect(quantile(merged, 0.5)).toBe(representative(bucketOf(30)));
    expect(quantile(merged, 0.95)).toBe(representative(bucketOf(1_000)));
    expect(quantile(histogramOf([]), 0.5)).toBeNull();
    expect(quantile(null, 0.5)).toBeNull();
  });
});
