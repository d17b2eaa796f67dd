import { OptimisticLockError } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Errors } from '../common/errors/app-error.js';
import { BoardErrors } from './boards.errors.js';
import { Run } from '../runs/run.entity.js';
import type { BoardColumn } from './board-column.entity.js';
import { Card } from './card.entity.js';
import type { RunStatuses } from './card-views.js';
import { assertVersion } from './if-match.js';

/**
 * Runs a conditional write of card `id` in a transaction; a lost race on the version (the versioned UPDATE
 * matched no row: `OptimisticLockError`) answers 412 with the current version, read after the rollback.
 */
export async function conditional<T>(
  em: EntityManager,
  id: string,
  fn: (tx: EntityManager) => Promise<T>,
): Promise<T> {
  try {
    return await em.transactional(fn);
  } catch (error) {
    if (!(error instanceof OptimisticLockError)) throw error;
    const current = await em.findOne(Card, { id }, { disableIdentityMap: true, fields: ['version'] });
    if (!current) throw Errors.notFound('Card');
    assertVersion([], current.version);
    throw error;
  }
}

/** 409 WIP_LIMIT when the column (locked by the caller) is full. */
export async function assertRoom(
  tx: EntityManager,
  column: Pick<BoardColumn, 'id' | 'name' | 'wipLimit'>,
): Promise<void> {
  if (column.wipLimit === null) return;
  const count = await tx.count(Card, { columnId: column.id });
  if (count >= column.wipLimit) {
    throw BoardErrors.WipLimitReached(column.name, column.wipLimit);
  }
}

/** The run's status (404 when the company has no such run). */
export async function findRun(em: EntityManager, runId: string): Promise<RunStatuses> {
  const run = await em.findOne(Run, { id: runId }, { fields: ['id', 'status'] });
  if (!run) throw Errors.notFound('Run');
  return new Map([[run.id, run.status]]);
}

/** The current status of the cards' runs, in one query. */
export async function runStatuses(em: EntityManager, runIds: (string | null)[]): Promise<RunStatuses> {
  const ids = [...new Set(runIds.filter((r): r is string => r !== null))];
  if (ids.length === 0) return new Map();
  const runs = await em.find(Run, { id: { $in: ids } }, { fields: ['id', 'status'] });
  return new Map(runs.map((r) => [r.id, r.status]));
}
