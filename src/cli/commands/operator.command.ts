import { parseArgs } from 'node:util';
import { JwtService } from '@nestjs/jwt';
import { AuditService } from '../../audit/audit.service.js';
import { JWT_AUDIENCE, JWT_ISSUER, jwtKey } from '../../auth/jwt-claims.js';
import { TokenService } from '../../auth/token.service.js';
import { AppError } from '../../common/errors/app-error.js';
import { isUuid } from '../../common/ids.js';
import { OperatorAccessService } from '../../operator-access/operator-access.service.js';
import { withAppDatabase, type CliCommand } from '../command.js';

const USAGE = 'operator break-glass <companyId> <operatorEmailOrId> --reason "<why>" [--write]';

/**
 * `operator break-glass`: a platform operator's switch-in whatever the company's `operatorAccess` policy (`off`
 * included), for emergencies, from the console only. It records `operator_access.break_glass` and
 * `platform.switched_in` with the reason in the company's own trail (its admins see it) and prints the token
 * (read-only unless `--write`, ≤ 60 min). Connects as `tenantry_app` and writes inside the company's context.
 */
export const operatorCommand: CliCommand = {
  name: 'operator',
  usage: USAGE,
  description: "Break-glass switch-in for a platform operator, audited in the company's trail",
  async run(args, ctx) {
    let parsed: { values: { reason?: string; write?: boolean }; positionals: string[] };
    try {
      parsed = parseArgs({
        args,
        options: { reason: { type: 'string' }, write: { type: 'boolean' } },
        allowPositionals: true,
        strict: true,
      });
    } catch (e) {
      ctx.err(`${e instanceof Error ? e.message : String(e)}\nusage: npm run cli -- ${USAGE}`);
      return 2;
    }
    const [verb, companyId, operator, ...rest] = parsed.positionals;
    const reason = parsed.values.reason?.trim() ?? '';
    if (verb !== 'break-glass' || !companyId || !operator || rest.length > 0) {
      ctx.err(`usage: npm run cli -- ${USAGE}`);
      return 2;
    }
    if (!isUuid(companyId)) {
      ctx.err('companyId must be a company id (UUID)');
      return 2;
    }
    if (reason.length < 10 || reason.length > 500) {
      ctx.err('--reason is required: 10 to 500 characters, recorded in the company audit trail');
      return 2;
    }
    try {
      return await withAppDatabase(ctx, 2, async (tenancy, orm) => {
        const jwt = new JwtService({
          secret: jwtKey(ctx.config.auth) as unknown as string,
          signOptions: { algorithm: 'HS256', issuer: JWT_ISSUER, audience: JWT_AUDIENCE },
        });
        const access = new OperatorAccessService(
          orm.em,
          tenancy,
          new TokenService(jwt, ctx.config),
          new AuditService(tenancy),
          ctx.config,
        );
        const token = await access.breakGlass(
          companyId,
          operator,
          reason,
          parsed.values.write ? 'write' : 'read',
        );
        ctx.err(
          `Break-glass switch-in of ${token.operator.email} into ${token.company.name} (${token.company.id}), ` +
            `mode ${token.mode}, until ${token.expiresAt}; recorded in the company's audit trail.`,
        );
        ctx.out(token.accessToken);
        return 0;
      });
    } catch (e) {
      if (e instanceof AppError) {
        ctx.err(e.detail);
        return 1;
      }
      throw e;
    }
  },
};
