import type { EntityManager } from '@mikro-orm/postgresql';
import { fromKysely, type KyselyTransactionLike } from 'pg-boss';

/**
 * The transaction of `tx` as a pg-boss database: a job sent through it commits (or not) with `tx`. The one way a
 * change and the background job it needs (a run, a mail) are written together.
 */
export function transactionDb(tx: EntityManager, what = 'Jobs') {
  const trx = tx.getTransactionContext<KyselyTransactionLike>();
  if (!tx.isInTransaction() || !trx) {
    throw new Error(`${what} are enqueued inside the transaction of the change that needs them`);
  }
  return fromKysely(trx);
}
