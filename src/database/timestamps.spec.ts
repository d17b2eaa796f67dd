import { describe, expect, it } from 'vitest';
import { instant, isoInstant } from './timestamps.js';

describe('instant', () => {
  it("reads PostgreSQL's text as PostgreSQL meant it (new Date's legacy parse does not)", () => {
    expect(isoInstant('0050-06-15 08:00:00+00')).toBe('0050-06-15T08:00:00.000Z');
    expect(new Date('0050-06-15 08:00:00+00').toISOString()).toBe('1950-06-15T08:00:00.000Z'); // the old bug
    expect(isoInstant('1850-01-01 00:00:00+00:53:28')).toBe('1849-12-31T23:06:32.000Z');
    expect(isoInstant('2026-12-07 10:11:12.345678+00')).toBe('2026-12-07T10:11:12.345Z');
    expect(isoInstant('2026-12-07 10:11:12.9+05:30')).toBe('2026-12-07T04:41:12.900Z');
  });

  it('reads ISO text (row_to_json) and passes a Date through', () => {
    expect(isoInstant('2026-12-07T10:11:12.345678+00:00')).toBe('2026-12-07T10:11:12.345Z');
    const at = new Date('2026-12-07T10:11:12.345Z');
    expect(instant(at)).toBe(at);
  });

  it('refuses what is not a finite timestamp', () => {
    expect(() => instant('infinity')).toThrow(RangeError);
    expect(() => instant('soon')).toThrow(RangeError);
  });
});
