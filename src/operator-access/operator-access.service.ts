import { Inject, Injectable } from '@nestjs/common';
import { EntityManager, LockMode, type FilterQuery } from '@mikro-orm/postgresql';
import { AuditService } from '../audit/audit.service.js';
import { TokenService } from '../auth/token.service.js';
import { AuthzErrors } from '../authz/authz.errors.js';
import { Company } from '../companies/company.entity.js';
import { Errors } from '../common/errors/app-error.js';
import { isUuid } from '../common/ids.js';
import { keysetFind, toPage, type Page } from '../common/pagination.js';
import type { AppConfig } from '../config/config.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { SwitchInTokenDto } from '../platform/dto/platform.dto.js';
import type { OperatorMode, TenantContext } from '../tenancy/request-store.js';
import { TenancyService } from '../tenancy/tenancy.service.js';
import { Unscoped } from '../tenancy/unscoped.js';
import { User } from '../users/user.entity.js';
import type { ListAccessRequestsQueryDto, OperatorAccessRequestDto } from './dto/operator-access.dto.js';
import { OperatorAccessRequest } from './operator-access-request.entity.js';
import { OperatorAccessErrors } from './operator-access.errors.js';

/** What the switch-in reads of the registry. */
type CompanyRef = Pick<Company, 'id' | 'name' | 'slug' | 'operatorAccess'>;

/** How long a pending request waits for a decision before it expires. */
export const PENDING_WINDOW_MS = 24 * 3_600_000;

/** What `POST /v1/platform/companies/{id}/switch` answers: a token (201) or a pending request (202). */
export type SwitchInOutcome =
  { kind: 'token'; token: SwitchInTokenDto } | { kind: 'request'; request: OperatorAccessRequestDto };

export function toAccessRequestDto(r: OperatorAccessRequest, now = new Date()): OperatorAccessRequestDto {
  return {
    id: r.id,
    operator: { id: r.operatorId, email: r.operatorEmail },
    reason: r.reason,
    mode: r.mode,
    status: r.statusAt(now),
    createdAt: r.createdAt.toISOString(),
    expiresAt: r.expiresAt.toISOString(),
    decidedBy: r.decidedBy,
    decidedAt: r.decidedAt?.toISOString() ?? null,
    redeemedAt: r.redeemedAt?.toISOString() ?? null,
  };
}

/** The context of a platform operator inside `companyId` (their switch-in, or their request being written). */
export function operatorContext(companyId: string, operatorId: string, mode: OperatorMode): TenantContext {
  return {
    companyId,
    principalId: operatorId,
    principalType: 'platform_admin',
    role: 'admin',
    userId: operatorId,
    actingUserId: operatorId,
    operatorId,
    operatorMode: mode,
  };
}

/**
 * The company's operator access policy (`operatorAccess`): how a platform operator's switch-in is decided, the
 * access requests its admins approve or deny, and the one place a switch-in token is signed (for every policy and
 * for the CLI's break-glass). Every request, decision and switch-in is written to the company's audit trail, in the
 * transaction that makes it. The platform side never reads across companies: each step runs inside the target
 * company's own context (`TenancyService.run`), as the operator, like the switch-in itself.
 */
@Injectable()
export class OperatorAccessService {
  constructor(
    private readonly em: EntityManager,
    private readonly tenancy: TenancyService,
    private readonly tokens: TokenService,
    private readonly audit: AuditService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  // ── The platform side ──────────────────────────────────────────────────────────────────────────────────────

  /**
   * `open`: the token at once. `approval`: a pending request (the token comes from `redeem` once an admin
   * approved). `off`: 403 (the refusal is recorded in the company's trail). Read-only unless `mode: 'write'`.
   */
  async switchIn(
    operator: TenantContext,
    companyId: string,
    reason: string,
    mode: OperatorMode = 'read',
  ): Promise<SwitchInOutcome> {
    const operatorId = operator.userId;
    if (!operatorId) throw AuthzErrors.PlatformOperatorsOnly();
    const company = await this.company(companyId);
    const ctx = operatorContext(companyId, operatorId, mode);
    switch (company.operatorAccess) {
      case 'open': {
        const expiresAt = new Date(Date.now() + this.config.auth.switchTtlSeconds * 1000);
        const token = await this.tenancy.run(ctx, (em) =>
          em.transactional((tx) =>
            this.issue(tx, ctx, company, {
              reason,
              expiresAt,
              fromCompanyId: operator.companyId,
            }),
          ),
        );
        return { kind: 'token', token };
      }
      case 'approval': {
        const email = await this.operatorEmail(operatorId);
        const request = await this.tenancy.run(ctx, (em) =>
          em.transactional(async (tx) => {
            const row = new OperatorAccessRequest(
              operatorId,
              email,
              reason,
              mode,
              new Date(Date.now() + PENDING_WINDOW_MS),
            );
            tx.persist(row);
            await tx.flush();
            await this.audit.record(
              {
                action: 'operator_access.requested',
                target: { type: 'OperatorAccessRequest', id: row.id },
                metadata: { reason, mode, expiresAt: row.expiresAt.toISOString() },
              },
              tx,
            );
            return toAccessRequestDto(row);
          }),
        );
        return { kind: 'request', request };
      }
      case 'off':
        await this.tenancy.run(ctx, (em) =>
          em.transactional((tx) =>
            this.audit.record(
              {
                action: 'operator_access.refused',
                target: { type: 'Company', id: companyId },
                metadata: { reason, mode },
              },
              tx,
            ),
          ),
        );
        throw OperatorAccessErrors.AccessOff();
    }
  }

  /** The operator's own request in that company (another operator's, or a missing one: 404). */
  async requestOf(operator: TenantContext, companyId: string, id: string): Promise<OperatorAccessRequestDto> {
    const operatorId = operator.userId;
    if (!operatorId) throw AuthzErrors.PlatformOperatorsOnly();
    await this.company(companyId);
    return this.tenancy.run(operatorContext(companyId, operatorId, 'read'), async (em) => {
      const row = await em.findOne(OperatorAccessRequest, { id, operatorId });
      if (!row) throw Errors.notFound('OperatorAccessRequest');
      return toAccessRequestDto(row);
    });
  }

  /**
   * The switch-in token of an approved request, once: it expires when the approval window does (≤ 60 min after
   * the approval). Pending or already redeemed: 409; denied or expired, or the company turned access `off`: 403.
   */
  async redeem(operator: TenantContext, companyId: string, id: string): Promise<SwitchInTokenDto> {
    const operatorId = operator.userId;
    if (!operatorId) throw AuthzErrors.PlatformOperatorsOnly();
    const company = await this.company(companyId);
    const probe = operatorContext(companyId, operatorId, 'read');
    return this.tenancy.run(probe, (em) =>
      em.transactional(async (tx) => {
        const row = await tx.findOne(
          OperatorAccessRequest,
          { id, operatorId },
          { lockMode: LockMode.PESSIMISTIC_WRITE },
        );
        if (!row) throw Errors.notFound('OperatorAccessRequest');
        const now = new Date();
        const status = row.statusAt(now);
        if (status === 'pending') throw OperatorAccessErrors.StillPending();
        if (status === 'redeemed') throw OperatorAccessErrors.AlreadyRedeemed();
        if (status !== 'approved') throw OperatorAccessErrors.NotApproved(status);
        if (company.operatorAccess === 'off') {
          throw OperatorAccessErrors.AccessOff();
        }
        row.status = 'redeemed';
        row.redeemedAt = now;
        await tx.flush();
        return this.issue(tx, operatorContext(companyId, operatorId, row.mode), company, {
          reason: row.reason,
          expiresAt: row.expiresAt,
          fromCompanyId: operator.companyId,
          requestId: row.id,
        });
      }),
    );
  }

  /**
   * The CLI's break-glass (`npm run cli -- operator break-glass`): a switch-in whatever the policy, for an
   * operator named by the person at the console, with a reason recorded in the company's trail.
   */
  async breakGlass(
    companyId: string,
    operatorEmailOrId: string,
    reason: string,
    mode: OperatorMode,
  ): Promise<SwitchInTokenDto & { operator: { id: string; email: string } }> {
    const company = await this.company(companyId);
    const byId: boolean = isUuid(operatorEmailOrId);
    const user = await this.tenancy.unscoped(Unscoped.Login, (em) =>
      em.findOne(User, byId ? { id: operatorEmailOrId } : { email: operatorEmailOrId.trim().toLowerCase() }, {
        fields: ['id', 'email', 'platformAdmin'],
      }),
    );
    if (!user) throw Errors.notFound('User');
    if (!user.platformAdmin) throw OperatorAccessErrors.NotAnOperator(user.email);
    const ctx = operatorContext(companyId, user.id, mode);
    const expiresAt = new Date(Date.now() + this.config.auth.switchTtlSeconds * 1000);
    const token = await this.tenancy.run(ctx, (em) =>
      em.transactional(async (tx) => {
        await this.audit.record(
          {
            action: 'operator_access.break_glass',
            target: { type: 'Company', id: companyId },
            metadata: { reason, mode, policy: company.operatorAccess, expiresAt: expiresAt.toISOString() },
          },
          tx,
        );
        return this.issue(tx, ctx, company, { reason, expiresAt, breakGlass: true });
      }),
    );
    return { ...token, operator: { id: user.id, email: user.email } };
  }

  // ── The company side (its admins) ──────────────────────────────────────────────────────────────────────────

  async list(query: ListAccessRequestsQueryDto): Promise<Page<OperatorAccessRequestDto>> {
    const page = keysetFind(query);
    const now = new Date();
    let where: FilterQuery<OperatorAccessRequest> = page.where;
    switch (query.status) {
      case undefined:
        break;
      case 'pending':
      case 'approved':
        where = { ...page.where, status: query.status, expiresAt: { $gt: now } };
        break;
      case 'expired':
        where = { ...page.where, status: { $in: ['pending', 'approved'] }, expiresAt: { $lte: now } };
        break;
      default:
        where = { ...page.where, status: query.status };
    }
    const rows = await this.em.find(OperatorAccessRequest, where, page.options);
    return toPage(rows, page.limit, (r) => toAccessRequestDto(r, now));
  }

  async get(id: string): Promise<OperatorAccessRequestDto> {
    const row = await this.em.findOne(OperatorAccessRequest, { id });
    if (!row) throw Errors.notFound('OperatorAccessRequest');
    return toAccessRequestDto(row);
  }

  /** Approves a pending request: its token may then be obtained once, within the switch-in window from now. */
  async approve(ctx: TenantContext, id: string): Promise<OperatorAccessRequestDto> {
    return this.decide(ctx, id, 'approved');
  }

  async deny(ctx: TenantContext, id: string): Promise<OperatorAccessRequestDto> {
    return this.decide(ctx, id, 'denied');
  }

  private async decide(
    ctx: TenantContext,
    id: string,
    decision: 'approved' | 'denied',
  ): Promise<OperatorAccessRequestDto> {
    return this.em.transactional(async (tx) => {
      const row = await tx.findOne(OperatorAccessRequest, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (!row) throw Errors.notFound('OperatorAccessRequest');
      const now = new Date();
      const status = row.statusAt(now);
      if (status !== 'pending') {
        throw OperatorAccessErrors.AlreadyDecided(status);
      }
      if (decision === 'approved' && row.operatorId === ctx.actingUserId) {
        // Four eyes: an operator who is also an admin here does not approve their own access.
        throw OperatorAccessErrors.OwnRequest();
      }
      row.status = decision;
      row.decidedBy = ctx.actingUserId;
      row.decidedAt = now;
      if (decision === 'approved') {
        row.expiresAt = new Date(now.getTime() + this.config.auth.switchTtlSeconds * 1000);
      }
      await tx.flush();
      await this.audit.record(
        {
          action: decision === 'approved' ? 'operator_access.approved' : 'operator_access.denied',
          target: { type: 'OperatorAccessRequest', id: row.id },
          metadata: {
            operatorId: row.operatorId,
            mode: row.mode,
            reason: row.reason,
            ...(decision === 'approved' ? { expiresAt: row.expiresAt.toISOString() } : {}),
          },
        },
        tx,
      );
      return toAccessRequestDto(row, now);
    });
  }

  // ── Shared ─────────────────────────────────────────────────────────────────────────────────────────────────

  /** The registry row (not tenant data): 404 for a missing company. */
  private async company(companyId: string): Promise<CompanyRef> {
    const company = await this.tenancy.unscoped(Unscoped.Directory, (em) =>
      em.findOne(Company, { id: companyId }, { fields: ['id', 'name', 'slug', 'operatorAccess'] }),
    );
    if (!company) throw Errors.notFound('Company');
    return company;
  }

  private async operatorEmail(userId: string): Promise<string> {
    const user = await this.tenancy.unscoped(Unscoped.Login, (em) =>
      em.findOne(User, { id: userId }, { fields: ['id', 'email'] }),
    );
    if (!user) throw AuthzErrors.PlatformOperatorsOnly();
    return user.email;
  }

  /**
   * The one place a switch-in token is signed: records `platform.switched_in` in the company (in `tx`, the
   * transaction of whatever else the switch-in changed) and signs an admin token with `act` and the mode, that
   * expires at `expiresAt` (≤ 60 min from now).
   */
  private async issue(
    tx: EntityManager,
    ctx: TenantContext,
    company: CompanyRef,
    details: {
      reason: string;
      expiresAt: Date;
      fromCompanyId?: string;
      requestId?: string;
      breakGlass?: true;
    },
  ): Promise<SwitchInTokenDto> {
    const operatorId = ctx.operatorId!;
    const mode = ctx.operatorMode ?? 'read';
    const ttl = Math.max(1, Math.ceil((details.expiresAt.getTime() - Date.now()) / 1000));
    const event = await this.audit.record(
      {
        action: 'platform.switched_in',
        target: { type: 'Company', id: company.id },
        metadata: {
          reason: details.reason,
          mode,
          expiresAt: details.expiresAt.toISOString(),
          ...(details.fromCompanyId ? { fromCompanyId: details.fromCompanyId } : {}),
          ...(details.requestId ? { requestId: details.requestId } : {}),
          ...(details.breakGlass ? { breakGlass: true } : {}),
        },
      },
      tx,
    );
    const access = this.tokens.signAccess(
      {
        sub: operatorId,
        company_id: company.id,
        role: 'admin',
        principal_type: 'platform_admin',
        act: { sub: operatorId },
        operator_mode: mode,
        ...(details.breakGlass ? { break_glass: true as const } : {}),
        sid: event.id,
      },
      Math.min(ttl, this.config.auth.switchTtlSeconds),
    );
    return {
      accessToken: access.token,
      tokenType: 'Bearer',
      expiresIn: access.expiresIn,
      expiresAt: details.expiresAt.toISOString(),
      company: { id: company.id, name: company.name, slug: company.slug },
      mode,
    };
  }
}
