import type { EventEmitter } from 'node:events';
import type pg from 'pg';

/**
 * A hand-written statement sent with real parameters as a named prepared statement: each pooled connection
 * parses and plans it once, then only binds and executes it. For the statements every write runs (the audit
 * append) and the hot writes (a card move); `text` uses `$1`, `$2`, … placeholders. PostgreSQL re-plans a prepared
 * statement after a schema change by itself; name its result columns (no `*`), so that a migration adding a column
 * cannot change a statement's result type under a running server. Behind PgBouncer in transaction mode, named
 * statements need PgBouncer ≥ 1.21 with `max_prepared_statements` set (as the `ScopedReader` reads already do).
 */
export interface PreparedStatement {
  /** The prepared statement's name on each connection (unique; also a name for logs and reviews). */
  readonly name: string;
  readonly text: string;
}

/** Statement text → name: what the pool's clients prepare (see `nameRegisteredStatements`). */
const registry = new Map<string, string>();

/**
 * Defines (and registers) a prepared statement from SQL with `?` placeholders, numbered in order (or written as
 * `$1`, `$2`, … where one parameter appears more than once). A `?` inside a quoted literal or identifier is
 * refused rather than guessed at: write such a value as a parameter.
 */
export function preparedStatement(name: string, sql: string): PreparedStatement {
  let n = 0;
  let quote: string | null = null;
  let text = '';
  for (const ch of sql) {
    if (quote) {
      if (ch === '?') throw new Error(`${name}: a ? inside a quoted literal or identifier`);
      if (ch === quote) quote = null;
      text += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      text += ch;
    } else {
      text += ch === '?' ? `$${++n}` : ch;
    }
  }
  // What the scan above cannot read safely is refused: comments, dollar quotes, jsonb's `?|` / `?&` / `??`, and
  // `?` next to `$n` (the numbering would collide).
  const unquoted = sql.replace(/'[^']*'|"[^"]*"/g, '');
  if (/--|\/\*|\$\$|\?[|&?]/.test(unquoted) || (n > 0 && /\$\d/.test(unquoted))) {
    throw new Error(`${name}: comments, dollar quotes, ?-operators or ? next to $n are not supported`);
  }
  const known = registry.get(text);
  if (known !== undefined && known !== name)
    throw new Error(`${name}: the same text is registered as ${known}`);
  if ([...registry.values()].includes(name) && known === undefined) {
    throw new Error(`${name}: a prepared statement of that name exists with another text`);
  }
  registry.set(text, name);
  return { name, text };
}

type QueryFn = (...args: unknown[]) => unknown;

/**
 * The ORM's pool hook (`driverOptions.onPoolCreated`): every client of the pool sends a registered text as its
 * named prepared statement. The ORM's query layer (kysely) calls `client.query(text, values)` and cannot pass a
 * name; pg has no other way to ask for one, so the client's `query` is wrapped here, once per connection. Any
 * other call (unregistered text, a config object, a cursor) goes through untouched.
 */
export function nameRegisteredStatements(pool: EventEmitter): void {
  pool.on('connect', (client: pg.PoolClient) => {
    // The prototype's `query`, looked up at each call (not bound once): a wrapper or spy installed later applies.
    const proto = Object.getPrototypeOf(client) as { query: QueryFn };
    const named: QueryFn = (...args) => {
      const [text, values] = args;
      const name = typeof text === 'string' && args.length <= 2 ? registry.get(text) : undefined;
      return name === undefined
        ? proto.query.apply(client, args)
        : proto.query.call(client, { name, text, values });
    };
    client.query = named as unknown as pg.PoolClient['query'];
  });
}
