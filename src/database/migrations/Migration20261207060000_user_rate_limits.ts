import { Migration } from '@mikro-orm/migrations';

/**
 * Per-user rate limits (issue 20, item 3): the company setting `user_rate_limit_per_minute` (null: none), and the
 * shared rate-limit counters used when no Redis is configured, so every instance on this database counts in the
 * same windows. The counters live in their own schema (`rate_limits`, not tenant data, never an entity): an
 * UNLOGGED table of one row per key (a crash may lose the current minute's counts, which is harmless) and `rate_limits.hit`, which
 * counts a request against several buckets in one round trip, in order, and stops at the first one over its limit
 * (so a request refused by a person's limit does not use up the company's).
 */
export class Migration20261207060000_user_rate_limits extends Migration {
  override name = 'Migration20261207060000_user_rate_limits';

  override up(): void | Promise<void> {
    this.addSql(`alter table "companies" add column "user_rate_limit_per_minute" int null;`);

    this.addSql(`create schema if not exists rate_limits;`);
    this.addSql(
      `create unlogged table rate_limits.counters (key text not null primary key, window_start bigint not null, count int not null);`,
    );
    this.addSql(`create index counters_window_start_idx on rate_limits.counters (window_start);`);
    // A key's window starts at its first request (epoch ms, the database's clock: one clock for every instance)
    // and lasts a minute; a request after it opens the next one. Keys and limits are JSON arrays.
    this.addSql(`
      create function rate_limits.hit(p_keys jsonb, p_limits jsonb)
      returns table (n int, started bigint)
      language plpgsql volatile as $$
      declare
        now_ms bigint := (extract(epoch from clock_timestamp()) * 1000)::bigint;
      begin
        for i in 0 .. jsonb_array_length(p_keys) - 1 loop
          insert into rate_limits.counters as c (key, window_start, count) values (p_keys->>i, now_ms, 1)
            on conflict (key) do update set
              count = case when c.window_start <= now_ms - 60000 then 1 else c.count + 1 end,
              window_start = case when c.window_start <= now_ms - 60000 then now_ms else c.window_start end
            returning c.count, c.window_start into n, started;
          return next;
          exit when n > (p_limits->>i)::int;
        end loop;
      end $$;`);
    this.addSql(`grant usage on schema rate_limits to tenantry_app;`);
    this.addSql(`grant select, insert, update, delete on rate_limits.counters to tenantry_app;`);
    this.addSql(`grant execute on function rate_limits.hit(jsonb, jsonb) to tenantry_app;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop schema rate_limits cascade;`);
    this.addSql(`alter table "companies" drop column "user_rate_limit_per_minute";`);
  }
}
