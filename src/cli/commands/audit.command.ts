import { parseArgs } from 'node:util';
import { MikroORM } from '@mikro-orm/postgresql';
import { exportCompanyTrail } from '../../audit/audit-export.js';
import { AuditQueryService, timeRangeOf } from '../../audit/audit-query.service.js';
import { AuditService } from '../../audit/audit.service.js';
import { exportTargetFromUrl } from '../../audit/export-target.js';
import { describeVerification, verifyExport } from '../../audit/offline-verifier.js';
import { AppError } from '../../common/errors/app-error.js';
import { isUuid } from '../../common/ids.js';
import { Company } from '../../companies/company.entity.js';
import { buildOrmConfig } from '../../database/orm.config.js';
import { deriveAppUrl } from '../../database/urls.js';
import type { TenantContext } from '../../tenancy/request-store.js';
import { TenancyService } from '../../tenancy/tenancy.service.js';
import type { CliCommand, CliContext } from '../command.js';

const USAGE = [
  'audit export [--company <id>] [--from <iso>] [--to <iso>]',
  'audit verify <file.ndjson | export folder>',
];

/** The context of the export job in one company: a `system` principal, like any background worker. */
export function systemContext(companyId: string): TenantContext {
  return {
    companyId,
    principalId: 'system',
    principalType: 'system',
    // The least role that may read the audit trail.
    role: 'admin',
    userId: undefined,
    operatorId: undefined,
  };
}

/**
 * `audit export`: writes each company's events to AUDIT_EXPORT_URL as
 * `audit/{companyId}/{yyyy}/{mm}/{dd}/{eventId}.json`. It connects as `tenantry_app` (never the owner) and
 * reads each company inside `TenancyService.run` with a system context, so both tenancy walls hold as for any
 * job; only the list of company ids comes from the companies registry, which is not tenant data.
 */
async function runExport(args: string[], ctx: CliContext): Promise<number> {
  let values: { company?: string; from?: string; to?: string };
  try {
    ({ values } = parseArgs({
      args,
      options: { company: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' } },
      strict: true,
    }));
  } catch (e) {
    ctx.err(`${e instanceof Error ? e.message : String(e)}\nusage: npm run cli -- ${USAGE[0]}`);
    return 2;
  }
  if (values.company !== undefined && !isUuid(values.company)) {
    ctx.err('--company must be a company id (UUID)');
    return 2;
  }
  const iso = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/;
  for (const name of ['from', 'to'] as const) {
    if (values[name] !== undefined && !iso.test(values[name])) {
      ctx.err(`--${name} must be an ISO 8601 timestamp`);
      return 2;
    }
  }
  let range;
  try {
    range = timeRangeOf({ from: values.from, to: values.to });
  } catch (e) {
    ctx.err(e instanceof AppError ? e.detail : String(e));
    return 2;
  }
  const target = exportTargetFromUrl(ctx.config.audit.exportUrl);
  const appUrl = deriveAppUrl(
    await ctx.ownerUrl(),
    ctx.config.database.appUrl,
    ctx.config.database.appPassword,
  );
  const orm = await MikroORM.init(buildOrmConfig({ url: appUrl, poolMax: 2 }));
  try {
    const tenancy = new TenancyService(orm);
    const queries = new AuditQueryService(tenancy, new AuditService(tenancy));
    const registry = orm.em.fork();
    const companies = values.company
      ? await registry.find(Company, { id: values.company }, { fields: ['id'] })
      : await registry.find(Company, {}, { fields: ['id'], orderBy: { id: 'asc' } });
    if (values.company && companies.length === 0) {
      ctx.err(`No company ${values.company}`);
      return 1;
    }
    let failed = 0;
    let total = 0;
    for (const { id } of companies) {
      try {
        const result = await tenancy.run(systemContext(id), (em) =>
          exportCompanyTrail(queries, em, range, target),
        );
        total += result.exported;
        ctx.out(
          `${id}: ${result.exported} event(s)${result.range ? ` (seq ${result.range.first}–${result.range.last})` : ''}`,
        );
      } catch (e) {
        failed += 1;
        ctx.err(`${id}: export failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    ctx.out(
      `Exported ${total} event(s) of ${companies.length - failed} company(ies) to ${target.description}.`,
    );
    return failed > 0 ? 1 : 0;
  } finally {
    await orm.close(true);
  }
}

/** `audit verify`: checks an export offline (no database); exit 0 when valid, 1 when not. */
async function runVerify(args: string[], ctx: CliContext): Promise<number> {
  const [path] = args;
  if (!path || args.length > 1) {
    ctx.err(`usage: npm run cli -- ${USAGE[1]}`);
    return 2;
  }
  let results;
  try {
    results = await verifyExport(path);
  } catch (e) {
    ctx.err(`Cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`);
    return 2;
  }
  for (const result of results) {
    for (const line of describeVerification(result)) ctx.out(line);
  }
  return results.every((r) => r.valid) ? 0 : 1;
}

export const auditCommand: CliCommand = {
  name: 'audit',
  usage: 'audit <export|verify> …',
  description: 'Export audit trails (AUDIT_EXPORT_URL) or verify an export offline',
  async run(args, ctx) {
    const [verb, ...rest] = args;
    if (verb === 'export') return runExport(rest, ctx);
    if (verb === 'verify') return runVerify(rest, ctx);
    ctx.err(`usage:\n${USAGE.map((u) => `  npm run cli -- ${u}`).join('\n')}`);
    return 2;
  },
};
