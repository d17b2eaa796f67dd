import { parseArgs } from 'node:util';
import { AuditExporter, type CompanyExport } from '../../audit/audit-export.job.js';
import { AuditQueryService, timeRangeOf } from '../../audit/audit-query.service.js';
import { AuditService } from '../../audit/audit.service.js';
import { exportTargetFromUrl } from '../../audit/export-target.js';
import { describeVerification, verifyExport } from '../../audit/offline-verifier.js';
import { AppError } from '../../common/errors/app-error.js';
import { isUuid } from '../../common/ids.js';
import { withAppDatabase, type CliCommand, type CliContext } from '../command.js';

export { exportContext as systemContext } from '../../audit/audit-export.job.js';

const USAGE = [
  'audit export [--company <id>] [--from <iso>] [--to <iso>] | --incremental',
  'audit verify <file.ndjson | export folder>',
];

/**
 * `audit export`: writes each company's events to AUDIT_EXPORT_URL as
 * `audit/{companyId}/{yyyy}/{mm}/{dd}/{eventId}.json`, and records each company's export in its own chain
 * (`audit.exported`, actor `system`). With `--from`/`--to`, the piece between those times; with
 * `--incremental`, what the scheduled job does (the events after the company's last scheduled export). It
 * connects as `tenantry_app` (never the owner) and reads each company inside `TenancyService.run` with a
 * system context, so both tenancy walls hold as for any job; only the list of company ids comes from the
 * companies registry, which is not tenant data.
 */
async function runExport(args: string[], ctx: CliContext): Promise<number> {
  let values: { company?: string; from?: string; to?: string; incremental?: boolean };
  try {
    ({ values } = parseArgs({
      args,
      options: {
        company: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        incremental: { type: 'boolean' },
      },
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
  if (values.incremental && (values.from !== undefined || values.to !== undefined)) {
    ctx.err('--incremental exports what is new since the last scheduled export: it takes no --from or --to');
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
  return withAppDatabase(ctx, 2, async (tenancy) => {
    const audit = new AuditService(tenancy);
    const exporter = new AuditExporter(tenancy, new AuditQueryService(tenancy, audit), audit, target);
    const companies = await exporter.companyIds(values.company);
    if (values.company && companies.length === 0) {
      ctx.err(`No company ${values.company}`);
      return 1;
    }
    let failed = 0;
    let total = 0;
    for (const id of companies) {
      try {
        const result: CompanyExport = values.incremental
          ? await exporter.exportIncremental(id)
          : await exporter.exportRange(id, range);
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
  });
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
