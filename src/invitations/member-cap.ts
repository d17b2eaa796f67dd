import type { EntityManager } from '@mikro-orm/postgresql';
import { Account } from '../accounts/account.entity.js';
import type { Company } from '../companies/company.entity.js';
import { DEFAULT_PLAN, limitsOf, planLabel, type Plans } from '../config/plans.js';
import { Membership } from '../members/membership.entity.js';
import { InvitationErrors } from './invitations.errors.js';

/**
 * Refuses (409) a new member, or an invitation to become one, when the company has its account plan's
 * `maxMembersPerCompany` already. Called in `tx` (the company's scope) with the company's administration lock
 * held, so concurrent accepts count each other. Pending invitations do not count: the cap binds when they are
 * accepted.
 */
export async function checkMemberCap(tx: EntityManager, company: Company, plans: Plans): Promise<void> {
  const account = await tx.findOne(Account, { id: company.accountId });
  const plan = account?.plan ?? DEFAULT_PLAN;
  const max = limitsOf(plans, plan).maxMembersPerCompany;
  if (max === null) return;
  const members = await tx.count(Membership, {});
  if (members >= max) {
    throw InvitationErrors.MemberCapReached(planLabel(plans, plan), max, members);
  }
}
