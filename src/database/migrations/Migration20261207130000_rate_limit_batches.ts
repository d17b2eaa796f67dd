import { Migration } from '@mikro-orm/migrations';

/**
 * Batched rate-limit counts: `rate_limits.add` adds the counts an instance made in memory (between a window's
 * first request and the last tenth of its limit) to the shared windows, in one round trip per batch, and answers
 * each key's current count, so every instance learns the others' counts. A count for a window that has since
 * ended (the row holds a newer window, or none) is not added: it belonged to the minute that is over.
 */
export class Migration20261207130000_rate_limit_batches extends Migration {
  override name = 'Migration20261207130000_rate_limit_batches';

  override up(): void | Promise<void> {
    // Rows are updated in the order given: the caller orders them as `rate_limits.hit` locks (see the limiter).
    this.addSql(`
      create function rate_limits.add(p_keys jsonb, p_counts jsonb, p_starts jsonb)
      returns table (n int, started bigint)
      language plpgsql volatile as $$
      begin
        for i in 0 .. jsonb_array_length(p_keys) - 1 loop
          update rate_limits.counters c set count = c.count + (p_counts->>i)::int
            where c.key = p_keys->>i and c.window_start = (p_starts->>i)::bigint
            returning c.count, c.window_start into n, started;
          if not found then
            select c.count, c.window_start into n, started from rate_limits.counters c where c.key = p_keys->>i;
            if not found then
              n := 0;
              started := 0;
            end if;
          end if;
          return next;
        end loop;
      end $$;`);
    this.addSql(`grant execute on function rate_limits.add(jsonb, jsonb, jsonb) to tenantry_app;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop function rate_limits.add(jsonb, jsonb, jsonb);`);
  }
}
