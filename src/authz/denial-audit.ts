import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AuditService } from '../audit/audit.service.js';
import type { TenantContext } from '../tenancy/request-store.js';
import { rulePermission } from './access-policy.js';
import type { AbilityRule } from './authorize.decorator.js';

/**
 * A denial on a single resource, written to the caller's company's audit trail as `authorization.denied` (in a
 * transaction of its own: the request answers 404 and commits nothing else).
 */
@Injectable()
export class DenialAudit {
  constructor(private readonly audit: AuditService) {}

  record(
    request: FastifyRequest,
    rule: AbilityRule,
    tenant: TenantContext,
    params: Record<string, string | undefined>,
  ): Promise<void> {
    return this.audit.recordAlone({
      action: 'authorization.denied',
      target: { type: rule.subject, id: (params.id ?? params.userId ?? null)?.slice(0, 100) ?? null },
      metadata: {
        permission: rulePermission(rule),
        action: rule.action,
        route: `${request.method} ${request.routeOptions.url}`,
        role: tenant.role,
        principalType: tenant.principalType,
      },
    });
  }
}
