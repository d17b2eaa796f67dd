import { Injectable } from '@nestjs/common';
import { MikroORM } from '@mikro-orm/postgresql';
import type pg from 'pg';
import { currentTenant } from './request-store.js';

/**
 * A hot read that carries its own tenant scope in one round trip: a SQL function (created by a migration)
 * whose first parameter is the company. The function sets `app.company_id` for its own statement (so row-level
 * security applies to what it reads, and the setting ends with the statement) and filters on the company
 * explicitly (the ORM filter's counterpart). `sql` calls it with `$1` for the company.
 */
export interface ScopedStatement {
  /** Also the name of the prepared statement on each pooled connection. */
  readonly name: string;
  readonly sql: string;
}

/**
 * Runs `ScopedStatement`s for the current tenant, as named prepared statements on the ORM's own pool: one round
 * trip per read, no hydration, no change tracking. For the few reads that are hot enough to need it (lists and
 * single rows of large tables); everything else goes through the ORM. The company is always the context's:
 * callers cannot pass one.
 */
@Injectable()
export class ScopedReader {
  private pool: pg.Pool | undefined;

  constructor(private readonly orm: MikroORM) {}

  async rows<R>(statement: ScopedStatement, args: readonly unknown[]): Promise<R[]> {
    const { companyId } = currentTenant();
    this.pool ??= await this.orm.em.getConnection().getNativeClient();
    const result = await this.pool.query<R & pg.QueryResultRow>({
      name: statement.name,
      text: statement.sql,
      values: [companyId, ...args],
    });
    return result.rows;
  }
}
