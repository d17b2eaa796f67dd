import type { AuditService } from '../audit/audit.service.js';
import { Errors } from '../common/errors/app-error.js';
import { currentTenant } from '../tenancy/request-store.js';
import type { Action, SubjectName } from './abilities.js';
import { permissionForRule } from './permissions.js';

/**
 * Thrown by a service when the loaded row may not be touched by the caller (an admin acting on an owner, a
 * member removing someone else). Usually thrown inside the transaction that loaded the row, so nothing commits.
 */
export class RowDenied extends Error {
  constructor(
    readonly action: Action,
    readonly subject: SubjectName,
    readonly id: string,
    readonly reason: string,
  ) {
    super(`${action} ${subject} ${id} denied: ${reason}`);
    this.name = 'RowDenied';
  }
}

/**
 * Runs `fn` and answers a `RowDenied` like the guard answers a denial on a single resource: audited as
 * `authorization.denied` (in a transaction of its own, after `fn`'s rolled back) and a 404 identical to a
 * missing row's.
 */
export async function deniedAsNotFound<T>(
  audit: AuditService,
  route: string,
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (!(e instanceof RowDenied)) throw e;
    await audit.recordAlone({
      action: 'authorization.denied',
      target: { type: e.subject, id: e.id },
      metadata: {
        permission: permissionForRule(e.action, e.subject) ?? null,
        action: e.action,
        route,
        role: currentTenant().role,
        reason: e.reason,
      },
    });
    throw Errors.notFound(e.subject);
  }
}
