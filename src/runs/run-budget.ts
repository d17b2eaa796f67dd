import { Injectable } from '@nestjs/common';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { LockMode, type EntityManager } from '@mikro-orm/postgresql';
import { RunBudgetUsage } from './run-budget-usage.entity.js';
import { RunErrors } from './runs.errors.js';

/** `YYYY-MM` of a moment, in UTC. */
export function monthOf(at: Date): string {
  return at.toISOString().slice(0, 7);
}

export function secondsUntilNextMonth(at: Date): number {
  const next = Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1);
  return Math.max(1, Math.ceil((next - at.getTime()) / 1000));
}

/**
 * The monthly run budget, counted exactly under concurrent starts: the month's usage row is locked
 * (`SELECT … FOR UPDATE`) for the rest of the starting transaction, so starts of one company are serialised on
 * it and each sees the count the previous one committed. The row is created on first use; two first uses at
 * once meet on its unique constraint, and the loser (in a savepoint) locks the winner's row instead.
 */
@Injectable()
export class RunBudget {
  /** Counts one more run this month, or throws 429 `BUDGET_EXCEEDED`; returns the month's count. */
  async consume(tx: EntityManager, budget: number | null, now = new Date()): Promise<number> {
    const month = monthOf(now);
    const usage = (await this.lock(tx, month)) ?? (await this.create(tx, month));
    if (budget !== null && usage.count >= budget) {
      throw RunErrors.BudgetExhausted(budget, month, secondsUntilNextMonth(now));
    }
    usage.count += 1;
    return usage.count;
  }

  /** The month's count so far (0 before the first run). */
  async used(em: EntityManager, now = new Date()): Promise<number> {
    const usage = await em.findOne(RunBudgetUsage, { month: monthOf(now) });
    return usage?.count ?? 0;
  }

  private lock(tx: EntityManager, month: string): Promise<RunBudgetUsage | null> {
    return tx.findOne(RunBudgetUsage, { month }, { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true });
  }

  private async create(tx: EntityManager, month: string): Promise<RunBudgetUsage> {
    try {
      await tx.transactional(async (savepoint) => {
        savepoint.persist(new RunBudgetUsage(month));
        await savepoint.flush();
      });
    } catch (e) {
      if (!(e instanceof UniqueConstraintViolationException)) throw e;
    }
    const usage = await this.lock(tx, month);
    if (!usage) throw new Error(`run budget row of ${month} vanished`);
    return usage;
  }
}
