import pg from 'pg';
import type { CounterStore } from '../../common/postgres-rate-limiter.js';

/** Connections of the limiter's own pool: a statement per window's first request and per batch, sub-millisecond. */
const POOL_MAX = 2;

/**
 * The rate-limit counters shared by every instance on this database (`rate_limits`, see the migration
 * `user_rate_limits`): not tenant data, so no company scope. They run on a small pool of their own (as the
 * application role, `databaseUrl`), outside any request transaction, as named prepared statements, without the ORM's query path,
 * and never waiting behind the request pool.
 */
export function postgresCounterStore(
  databaseUrl: string,
  onError: (message: string) => void,
): CounterStore & { close(): Promise<void> } {
  // A database that does not answer fails the count quickly (the limiter then counts in memory) instead of
  // holding the request, or the shutdown, for the operating system's connect timeout.
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: POOL_MAX,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 5_000,
  });
  pool.on('error', (e) => onError(`rate limiter: idle connection failed (${e.message})`));
  return {
    async hit(keys, limits) {
      const { rows } = await pool.query<{ n: number; started: string }>({
        name: 'rate_limits_hit',
        text: 'select n, started from rate_limits.hit($1::jsonb, $2::jsonb)',
        values: [JSON.stringify(keys), JSON.stringify(limits)],
      });
      return rows.map((r) => ({ count: r.n, windowStart: Number(r.started) }));
    },
    async add(keys, counts, starts) {
      const { rows } = await pool.query<{ n: number; started: string }>({
        name: 'rate_limits_add',
        text: 'select n, started from rate_limits.add($1::jsonb, $2::jsonb, $3::jsonb)',
        values: [JSON.stringify(keys), JSON.stringify(counts), JSON.stringify(starts)],
      });
      return rows.map((r) => ({ count: r.n, windowStart: Number(r.started) }));
    },
    async sweep(before) {
      await pool.query('delete from rate_limits.counters where window_start < $1', [before]);
    },
    close: () => pool.end(),
  };
}
