import { describe, expect, it } from 'vitest';
import { EventThrottle } from './event-throttle.js';

describe('EventThrottle', () => {
  it('lets one occurrence per key and window through and counts the ones held back', () => {
    const throttle = new EventThrottle(60_000);
    expect(throttle.take('k', 0)).toEqual({ suppressed: 0 });
    expect(throttle.take('k', 1_000)).toBeNull();
    expect(throttle.take('k', 59_999)).toBeNull();
    expect(throttle.take('other', 1_000)).toEqual({ suppressed: 0 });
    expect(throttle.take('k', 60_000)).toEqual({ suppressed: 2 });
    expect(throttle.take('k', 60_001)).toBeNull();
  });

  it('stays bounded', () => {
    const throttle = new EventThrottle(60_000, 3);
    for (let i = 0; i < 10; i++) expect(throttle.take(`k${i}`, i)).toEqual({ suppressed: 0 });
  });
});
