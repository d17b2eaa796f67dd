import { credentialScope } from '../authz/abilities.js';
import { Injectable } from '@nestjs/common';
import { EntityManager, LockMode } from '@mikro-orm/postgresql';
import { AuditService } from '../audit/audit.service.js';
import { sha256Hex } from '../auth/secrets.js';
import { abilityFor } from '../authz/abilities.js';
import { roleAtLeast } from '../authz/roles.js';
import { CompaniesService } from '../companies/companies.service.js';
import { Errors } from '../common/errors/app-error.js';
import { keysetFind, toPage, type Page, type PageQueryDto } from '../common/pagination.js';
import { IdempotencyService } from '../idempotency/idempotency.service.js';
import { MembershipsService } from '../members/memberships.service.js';
import { userContext, type TenantContext } from '../tenancy/request-store.js';
import { TenancyService } from '../tenancy/tenancy.service.js';
import { Application } from './application.entity.js';
import { CLIENT_SECRET_FORMAT, newClientId } from './client-credentials.js';
import type {
  ApplicationCredentialsDto,
  ApplicationDto,
  CreateApplicationDto,
  UpdateApplicationDto,
} from './dto/applications.dto.js';
import { ApplicationErrors } from './applications.errors.js';

export function toApplicationDto(app: Application): ApplicationDto {
  return {
    id: app.id,
    name: app.name,
    description: app.description,
    role: app.role,
    permissions: app.permissions ? [...app.permissions] : null,
    clientId: app.clientId,
    createdBy: app.createdBy,
    createdAt: app.createdAt.toISOString(),
    updatedAt: app.updatedAt.toISOString(),
    secretRotatedAt: app.secretRotatedAt.toISOString(),
  };
}

/**
 * Applications (service principals) of the context's company. The owner creates, edits, rotates and deletes
 * them; admins read them. Credentials do not manage credentials: an API key or an application token holding the
 * owner role still cannot change an application (answered 404, like every denial on `/v1/applications/{id}`).
 */
@Injectable()
export class ApplicationsService {
  constructor(
    private readonly em: EntityManager,
    private readonly tenancy: TenancyService,
    private readonly memberships: MembershipsService,
    private readonly companies: CompaniesService,
    private readonly audit: AuditService,
    private readonly idempotency: IdempotencyService,
  ) {}

  async create(
    ctx: TenantContext,
    dto: CreateApplicationDto,
    idempotencyKey: string | undefined,
  ): Promise<ApplicationCredentialsDto> {
    const creator = ctx.principalType === 'user' ? ctx.userId : undefined;
    if (!creator) throw ApplicationErrors.CreatorNotAPerson();
    const role = dto.role ?? 'member';
    // The caller's role now, not the one their token was issued with.
    const current = await this.memberships.currentRole(ctx);
    if (!roleAtLeast(current, role)) {
      throw ApplicationErrors.RoleAboveOwn(current);
    }
    const permissions = credentialScope(ctx, dto.permissions, role);
    const clientId = newClientId();
    const secret = CLIENT_SECRET_FORMAT.mint();
    const app = new Application({
      name: dto.name,
      description: dto.description || null,
      role,
      clientId,
      clientIdHash: sha256Hex(clientId),
      clientSecretHash: sha256Hex(secret),
      createdBy: creator,
    });
    app.permissions = permissions;
    await this.em.transactional(async (tx) => {
      await this.idempotency.claim(tx, {
        scope: 'POST /v1/applications',
        key: idempotencyKey,
        request: dto,
        resourceType: 'Application',
        resourceId: app.id,
      });
      tx.persist(app);
      await this.audit.record(
        {
          action: 'application.created',
          target: { type: 'Application', id: app.id },
          metadata: { name: app.name, role: app.role, clientId },
        },
        tx,
      );
    });
    return { ...toApplicationDto(app), clientSecret: secret };
  }

  async list(query: PageQueryDto): Promise<Page<ApplicationDto>> {
    const page = keysetFind(query);
    const rows = await this.em.find(Application, page.where, page.options);
    return toPage(rows, page.limit, toApplicationDto);
  }

  /**
   * `?scope=account`: the applications of every company the user belongs to, each row with its company. The
   * route's rule for this scope is the person's own (`read Account`), whatever their role in the active company;
   * what each company contributes is decided by the role there. Only companies where the user may read
   * applications (admin or owner there: the role matrix gives members and managers no read of applications)
   * are included; the others are skipped, not shown reduced. Each company is read inside its own tenant context
   * (one query per company), after the user's memberships were read through the identity scope: no query spans
   * companies.
   */
  async listForAccount(ctx: TenantContext, query: PageQueryDto): Promise<Page<ApplicationDto>> {
    const userId = ctx.principalType === 'user' ? ctx.userId : undefined;
    if (!userId) {
      throw ApplicationErrors.AccountScopeNotAPerson();
    }
    this.tenancy.enterIdentity(userId);
    const contexts = (await this.memberships.listForUser(userId))
      .map((m) => userContext(m.companyId, userId, m.role))
      .filter((c) => abilityFor(c).can('read', 'Application'));
    const companies = new Map(
      (await this.companies.findByIds(contexts.map((c) => c.companyId))).map((c) => [c.id, c]),
    );
    const page = keysetFind(query);
    const rows: { id: string; dto: ApplicationDto }[] = [];
    for (const c of contexts) {
      const company = companies.get(c.companyId);
      if (!company) continue;
      const apps = await this.tenancy.run(c, (em) => em.find(Application, page.where, page.options));
      for (const app of apps) {
        rows.push({
          id: app.id,
          dto: {
            ...toApplicationDto(app),
            company: { id: company.id, name: company.name, slug: company.slug },
          },
        });
      }
    }
    rows.sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
    return toPage(rows.slice(0, page.limit + 1), page.limit, (r) => r.dto);
  }

  async get(id: string): Promise<ApplicationDto> {
    return toApplicationDto(await this.load(this.em, id));
  }

  async update(ctx: TenantContext, id: string, dto: UpdateApplicationDto): Promise<ApplicationDto> {
    await this.requirePerson(ctx, id, 'update', 'PATCH /v1/applications/:id');
    return this.em.transactional(async (tx) => {
      const app = await this.load(tx, id, true);
      const changed: string[] = [];
      if (dto.name !== undefined && dto.name !== app.name) {
        app.name = dto.name;
        changed.push('name');
      }
      if (dto.description !== undefined && (dto.description || null) !== app.description) {
        app.description = dto.description || null;
        changed.push('description');
      }
      if (dto.role !== undefined && dto.role !== app.role) {
        const current = await this.memberships.currentRole(ctx, tx);
        if (!roleAtLeast(current, dto.role)) {
          throw ApplicationErrors.RoleAboveOwn(current);
        }
        changed.push('role');
        app.role = dto.role;
      }
      if (changed.length > 0) {
        app.updatedAt = new Date();
        await this.audit.record(
          {
            action: 'application.updated',
            target: { type: 'Application', id: app.id },
            metadata: { fields: changed, ...(changed.includes('role') ? { role: app.role } : {}) },
          },
          tx,
        );
      }
      return toApplicationDto(app);
    });
  }

  /** Deletes the application: its secret stops working at once; tokens already issued expire on their own. */
  async delete(ctx: TenantContext, id: string): Promise<void> {
    await this.requirePerson(ctx, id, 'delete', 'DELETE /v1/applications/:id');
    await this.em.transactional(async (tx) => {
      const app = await this.load(tx, id, true);
      tx.remove(app);
      await this.audit.record(
        {
          action: 'application.deleted',
          target: { type: 'Application', id: app.id },
          metadata: { name: app.name, clientId: app.clientId },
        },
        tx,
      );
    });
  }

  /** A new client secret (shown once); the old one stops working at once. */
  async rotateSecret(
    ctx: TenantContext,
    id: string,
    idempotencyKey: string | undefined,
  ): Promise<ApplicationCredentialsDto> {
    await this.requirePerson(ctx, id, 'rotate', 'POST /v1/applications/:id/rotate-secret');
    const secret = CLIENT_SECRET_FORMAT.mint();
    return this.em.transactional(async (tx) => {
      const app = await this.load(tx, id, true);
      await this.idempotency.claim(tx, {
        scope: 'POST /v1/applications/{id}/rotate-secret',
        key: idempotencyKey,
        request: { id },
        resourceType: 'Application',
        resourceId: app.id,
      });
      app.clientSecretHash = sha256Hex(secret);
      app.secretRotatedAt = new Date();
      app.updatedAt = app.secretRotatedAt;
      await this.audit.record(
        { action: 'application.secret_rotated', target: { type: 'Application', id: app.id } },
        tx,
      );
      return { ...toApplicationDto(app), clientSecret: secret };
    });
  }

  /** Item routes that change an application: people only; any other principal gets the audited 404. */
  private async requirePerson(ctx: TenantContext, id: string, action: string, route: string): Promise<void> {
    if (ctx.principalType === 'user' && ctx.userId) return;
    await this.audit.recordAlone({
      action: 'authorization.denied',
      target: { type: 'Application', id },
      metadata: {
        permission: 'applications:write',
        action,
        route,
        role: ctx.role,
        principalType: ctx.principalType,
        reason: 'credentials do not manage applications',
      },
    });
    throw Errors.notFound('Application');
  }

  private async load(em: EntityManager, id: string, lock = false): Promise<Application> {
    const app = await em.findOne(
      Application,
      { id },
      lock ? { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true } : {},
    );
    if (!app) throw Errors.notFound('Application');
    return app;
  }
}
