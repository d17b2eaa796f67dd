import { Injectable } from '@nestjs/common';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { LockMode, type EntityManager } from '@mikro-orm/postgresql';
import { monthOf, secondsUntilNextMonth } from '../runs/run-budget.js';
import { AccountRunUsage } from './account-run-usage.entity.js';
import { AccountErrors } from './accounts.errors.js';

/**
 * The account-wide monthly run budget, shared by the account's companies and counted exactly under concurrent
 * starts with the company budget's discipline: the account's month row is locked (`SELECT … FOR UPDATE`) for the
 * rest of the starting transaction. Lock order of a start: the company's month row (`RunBudget`), then the
 * account's month row, then the company's audit chain head; nothing else locks the account's row, so starts in
 * two companies of one account serialise on it without a cycle. Counted whatever the budget (null: unlimited),
 * so a plan that gains a budget mid-month counts the month's runs already started.
 */
@Injectable()
export class AccountRunBudget {
  /** Counts one more run of the account this month, or throws 429 `BUDGET_EXCEEDED` naming the account budget. */
  async consume(
    tx: EntityManager,
    accountId: string,
    budget: number | null,
    now = new Date(),
  ): Promise<number> {
    const month = monthOf(now);
    const usage = (await this.lock(tx, accountId, month)) ?? (await this.create(tx, accountId, month));
    if (budget !== null && usage.count >= budget) {
      throw AccountErrors.BudgetExhausted(budget, month, secondsUntilNextMonth(now));
    }
    usage.count += 1;
    return usage.count;
  }

  /** The account's count this month (0 before its first run). */
  async used(em: EntityManager, accountId: string, now = new Date()): Promise<number> {
    const usage = await em.findOne(AccountRunUsage, { accountId, month: monthOf(now) });
    return usage?.count ?? 0;
  }

  private lock(tx: EntityManager, accountId: string, month: string): Promise<AccountRunUsage | null> {
    return tx.findOne(
      AccountRunUsage,
      { accountId, month },
      { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true },
    );
  }

  private async create(tx: EntityManager, accountId: string, month: string): Promise<AccountRunUsage> {
    try {
      await tx.transactional(async (savepoint) => {
        savepoint.persist(new AccountRunUsage(accountId, month));
        await savepoint.flush();
      });
    } catch (e) {
      if (!(e instanceof UniqueConstraintViolationException)) throw e;
    }
    const usage = await this.lock(tx, accountId, month);
    if (!usage) throw new Error(`account run budget row of ${month} vanished`);
    return usage;
  }
}
