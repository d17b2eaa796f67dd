import { Injectable } from '@nestjs/common';
import { MikroORM } from '@mikro-orm/postgresql';
import type pg from 'pg';
import { currentTenant } from './request-store.js';
import { SESSION } from './tenant.entity.js';

/**
 * A hot read that carries its own tenant scope in one round trip: a set-returning SQL function (created by a
 * migration) whose first parameter is the company. The function runs as the caller (`security invoker`), so
 * row-level security reads the `app.company_id` of the statement's transaction, and it filters on its company
 * parameter explicitly, returning nothing when the parameter differs from that setting (see
 * src/runs/run-reads.sql.ts). The function never sets the company itself: `ScopedReader` does, from the context.
 */
export interface ScopedFunction {
  /** The function's name; also the name of the prepared statement on each pooled connection. */
  readonly name: string;
  /** How many parameters follow the company. */
  readonly arity: number;
}

/**
 * Runs `ScopedFunction`s for the current tenant, as named prepared statements on the ORM's own pool: one round
 * trip per read, no hydration, no change tracking. For the few reads that are hot enough to need it (lists and
 * single rows of large tables); everything else goes through the ORM. The company is always the context's:
 * callers cannot pass one. The statement sets `app.company_id` for its own implicit transaction
 * (`set_config(..., true)`, evaluated as the function's argument, so before its body runs) and hands the same
 * value to the function: the setting ends with the statement and never reaches the pooled connection's next user.
 */
@Injectable()
export class ScopedReader {
  private pool: pg.Pool | undefined;
  private readonly texts = new Map<string, string>();

  constructor(private readonly orm: MikroORM) {}

  async rows<R>(fn: ScopedFunction, args: readonly unknown[]): Promise<R[]> {
    if (args.length !== fn.arity) throw new Error(`${fn.name} takes ${fn.arity} arguments after the company`);
    const { companyId } = currentTenant();
    this.pool ??= await this.orm.em.getConnection().getNativeClient();
    const result = await this.pool.query<R & pg.QueryResultRow>({
      name: fn.name,
      text: this.text(fn),
      values: [companyId, ...args],
    });
    return result.rows;
  }

  private text(fn: ScopedFunction): string {
    let text = this.texts.get(fn.name);
    if (!text) {
      if (!/^[a-z_][a-z0-9_]*$/.test(fn.name)) throw new Error(`Not a function name: ${fn.name}`);
      const rest = Array.from({ length: fn.arity }, (_, i) => `, $${i + 2}`).join('');
      text = `select * from ${fn.name}(set_config('${SESSION.company}', $1::text, true)::uuid${rest})`;
      this.texts.set(fn.name, text);
    }
    return text;
  }
}
