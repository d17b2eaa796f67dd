import { Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { MikroOrmModule } from '@mikro-orm/nestjs';
import type { Logger } from 'pino';
import { ApiKeysModule } from './api-keys/api-keys.module.js';
import { ApplicationsModule } from './applications/applications.module.js';
import { AuditModule } from './audit/audit.module.js';
import { AuthModule } from './auth/auth.module.js';
import { AUTHORIZATION_PROVIDERS, AuthorizationGuard } from './authz/authorization.guard.js';
import { RATE_LIMITER } from './authz/request-limits.js';
import { ProblemFilter, ROOT_LOGGER } from './common/errors/problem.filter.js';
import { createRateLimiter } from './common/rate-limiter.factory.js';
import type { RateLimiter } from './common/rate-limiter.js';
import { UndeclaredBodyGuard } from './common/undeclared-body.guard.js';
import { ApiValidationPipe } from './common/validation.pipe.js';
import { CompaniesModule } from './companies/companies.module.js';
import type { AppConfig } from './config/config.js';
import { ConfigModule } from './config/config.module.js';
import { ConnectorsModule } from './connectors/connectors.module.js';
import { buildOrmConfig } from './database/orm.config.js';
import { DraftsModule } from './drafts/drafts.module.js';
import { FEATURES } from './features.js';
import { HealthModule } from './health/health.module.js';
import { MarketplaceModule } from './marketplace/marketplace.module.js';
import { InvitationsModule } from './invitations/invitations.module.js';
import { MembersAdminModule } from './members/members-admin.module.js';
import { MembersModule } from './members/members.module.js';
import { PlatformModule } from './platform/platform.module.js';
import { RunsModule } from './runs/runs.module.js';
import { TemplatesModule } from './templates/templates.module.js';
import { TenancyModule } from './tenancy/tenancy.module.js';
import { UsersModule } from './users/users.module.js';

export interface AppOptions {
  config: AppConfig;
  /** Runtime connection as `tenantry_app` (never the owner). */
  databaseUrl: string;
  logger: Logger;
}

/** The modular monolith: one module per feature; cross-cutting concerns registered once, here. */
@Module({})
export class AppModule implements OnApplicationShutdown {
  constructor(@Inject(RATE_LIMITER) private readonly limiter: RateLimiter) {}

  async onApplicationShutdown(): Promise<void> {
    await this.limiter.close?.();
  }

  static forRoot(options: AppOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(options.config),
        MikroOrmModule.forRoot({
          ...buildOrmConfig({
            url: options.databaseUrl,
            poolMax: options.config.database.poolMax,
            debug: options.config.logLevel === 'trace',
            log: (message) => options.logger.trace({ orm: true }, message),
          }),
          // The request context (an EntityManager fork per request) is opened by the app's request hook.
          registerRequestContext: false,
        }),
        TenancyModule,
        AuditModule,
        UsersModule,
        CompaniesModule,
        MembersModule,
        AuthModule,
        PlatformModule,
        // Exports API_KEY_AUTHENTICATOR to the global guard below (as MembersModule, CompaniesModule and AuthModule
        // export the other ports of authz/access-ports.ts).
        ApiKeysModule,
        ApplicationsModule,
        TemplatesModule,
        DraftsModule,
        MarketplaceModule,
        ConnectorsModule,
        MembersAdminModule,
        InvitationsModule,
        RunsModule,
        HealthModule,
        // Features that register themselves (src/features.ts): their entities, abilities and audit actions too.
        ...FEATURES.map((feature) => feature.module),
      ],
      providers: [
        { provide: ROOT_LOGGER, useValue: options.logger },
        {
          provide: RATE_LIMITER,
          useFactory: () => createRateLimiter(options.config, options.logger, options.databaseUrl),
        },
        ...AUTHORIZATION_PROVIDERS,
        { provide: APP_GUARD, useClass: AuthorizationGuard },
        { provide: APP_GUARD, useClass: UndeclaredBodyGuard },
        { provide: APP_FILTER, useClass: ProblemFilter },
        { provide: APP_PIPE, useClass: ApiValidationPipe },
      ],
    };
  }
}
