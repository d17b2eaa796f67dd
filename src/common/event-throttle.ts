/**
 * At most one occurrence per key per window, counting the ones held back: used for audit events that an
 * outsider can trigger at will (a revoked API key presented over and over), so the trail records each episode
 * without one attacker growing a company's chain by thousands of rows a minute.
 */
export class EventThrottle {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly windowMs = 60_000,
    private readonly maxKeys = 10_000,
  ) {}

  /** Returns `{ suppressed }` (the occurrences held back since the last one let through) or null to hold back. */
  take(key: string, now = Date.now()): { suppressed: number } | null {
    const entry = this.last.get(key);
    if (entry && now - entry.at < this.windowMs) {
      entry.suppressed++;
      return null;
    }
    if (!entry && this.last.size >= this.maxKeys) {
      for (const [k, e] of this.last) if (now - e.at >= this.windowMs) this.last.delete(k);
      if (this.last.size >= this.maxKeys) this.last.delete(this.last.keys().next().value as string);
    }
    this.last.set(key, { at: now, suppressed: 0 });
    return { suppressed: entry?.suppressed ?? 0 };
  }
}
