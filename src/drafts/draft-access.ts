import { subject } from '@casl/ability';
import { Injectable } from '@nestjs/common';
import { EntityManager, LockMode } from '@mikro-orm/postgresql';
import { AuditService } from '../audit/audit.service.js';
import { abilityFor, type Action } from '../authz/abilities.js';
import { permissionForRule } from '../authz/permissions.js';
import { Errors } from '../common/errors/app-error.js';
import type { TenantContext } from '../tenancy/request-store.js';
import { Draft } from './draft.entity.js';

/** Who a change is attributed to; the same identity the ability factory compares `createdBy` with. */
export function actorId(ctx: TenantContext): string {
  return ctx.actingUserId;
}

/**
 * Owns how the drafts' services reach one draft: a live (not deleted) draft of the company by id, and, for a
 * change, the same draft locked for the transaction after the row-level check, with the denial audited.
 */
@Injectable()
export class DraftAccess {
  constructor(
    private readonly em: EntityManager,
    private readonly audit: AuditService,
  ) {}

  async findDraft(id: string): Promise<Draft> {
    const draft = await this.em.findOne(Draft, { id, deletedAt: null });
    if (!draft) throw Errors.notFound('Draft');
    return draft;
  }

  /**
   * Runs `fn` on the draft, locked for the transaction, after the row-level check: members may change only
   * drafts they created. A denial answers 404, like a missing draft, and is audited as `authorization.denied`
   * (in a transaction of its own, since the change's transaction is rolled back).
   */
  async withDraft<T>(
    ctx: TenantContext,
    action: Action,
    id: string,
    route: string,
    fn: (tx: EntityManager, draft: Draft) => Promise<T>,
  ): Promise<T> {
    let denied = false;
    try {
      return await this.em.transactional(async (tx) => {
        const draft = await tx.findOne(
          Draft,
          { id, deletedAt: null },
          { lockMode: LockMode.PESSIMISTIC_WRITE },
        );
        if (!draft) throw Errors.notFound('Draft');
        if (!abilityFor(ctx).can(action, subject('Draft', { createdBy: draft.createdBy }))) {
          denied = true;
          throw Errors.notFound('Draft');
        }
        return fn(tx, draft);
      });
    } catch (error) {
      if (denied) {
        await this.audit.recordAlone({
          action: 'authorization.denied',
          target: { type: 'Draft', id },
          metadata: {
            permission: permissionForRule(action, 'Draft') ?? null,
            action,
            route,
            role: ctx.role,
            reason: 'not your draft',
          },
        });
      }
      throw error;
    }
  }
}
