import { readFileSync } from 'node:fs';
import { MikroORM } from '@mikro-orm/postgresql';
import { AuditService } from '../../audit/audit.service.js';
import { masterKeyUsage, rotateMasterKey } from '../../crypto/master-key-rotation.js';
import { masterKeyId } from '../../crypto/secret-box.js';
import { isUuid } from '../../common/ids.js';
import { buildOrmConfig } from '../../database/orm.config.js';
import { TenancyService } from '../../tenancy/tenancy.service.js';
import type { CliCommand, CliContext } from '../command.js';

interface Args {
  verb: string | undefined;
  newKey?: string;
  newKeyFile?: string;
  companies: string[];
  dryRun: boolean;
}

function parseArgs(args: string[]): Args | string {
  const [verb, ...rest] = args;
  const out: Args = { verb, companies: [], dryRun: false };
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i];
    const value = rest[i + 1];
    if (flag === '--dry-run') {
      out.dryRun = true;
      continue;
    }
    if (value === undefined) return `option ${flag} needs a value`;
    if (flag === '--new-key') out.newKey = value;
    else if (flag === '--new-key-file') out.newKeyFile = value;
    else if (flag === '--company' && isUuid(value)) out.companies.push(value);
    else if (flag === '--company') return `--company needs a company id`;
    else return `unknown option ${flag}`;
    i++;
  }
  return out;
}

/** Base64 of exactly 32 bytes, like TENANTRY_MASTER_KEY. */
function decodeKey(text: string): Buffer | undefined {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/]{43}=$/.test(trimmed)) return undefined;
  const key = Buffer.from(trimmed, 'base64');
  return key.length === 32 ? key : undefined;
}

async function withOrm<T>(ctx: CliContext, fn: (tenancy: TenancyService, audit: AuditService) => Promise<T>) {
  // The owner connection, like every operator command; each company is still handled inside its own tenant
  // context (ORM filter + row-level-security setting), see rotateMasterKey.
  const orm = await MikroORM.init(buildOrmConfig({ url: await ctx.ownerUrl(), poolMax: 2 }));
  try {
    const tenancy = new TenancyService(orm);
    return await fn(tenancy, new AuditService(tenancy));
  } finally {
    await orm.close(true);
  }
}

/**
 * Master key operations (never exposed over HTTP):
 * - `status`: which master key wraps how many company data keys.
 * - `rotate`: re-wrap every company's data key from the configured TENANTRY_MASTER_KEY to a new key, then
 *   restart every instance with TENANTRY_MASTER_KEY set to the new key. Idempotent and resumable; run it again
 *   after the restart to catch keys created by instances that still ran with the old key meanwhile.
 */
export const masterKeyCommand: CliCommand = {
  name: 'master-key',
  usage:
    'master-key <status|rotate> [--new-key-file <path> | --new-key <base64>] [--company <id>]… [--dry-run]',
  description: 'Show which master key wraps the company data keys, or re-wrap them under a new master key',
  async run(args, ctx) {
    const parsed = parseArgs(args);
    if (typeof parsed === 'string' || (parsed.verb !== 'status' && parsed.verb !== 'rotate')) {
      ctx.err(typeof parsed === 'string' ? parsed : `usage: npm run cli -- ${this.usage}`);
      return 2;
    }
    const currentId = masterKeyId(ctx.config.masterKey);
    const companyIds = parsed.companies.length > 0 ? parsed.companies : undefined;

    if (parsed.verb === 'status') {
      const usage = await withOrm(ctx, (tenancy) => masterKeyUsage(tenancy, companyIds));
      ctx.out(`configured master key: ${currentId}`);
      if (usage.size === 0) ctx.out('no company has a data key yet');
      for (const [id, count] of usage) {
        ctx.out(
          `${id}: ${count} compan${count === 1 ? 'y' : 'ies'}${id === currentId ? ' (configured)' : ''}`,
        );
      }
      return 0;
    }

    let text: string | undefined = parsed.newKey;
    if (parsed.newKeyFile !== undefined) text = readFileSync(parsed.newKeyFile, 'utf8');
    if (text === undefined) {
      ctx.err('rotate needs the new key: --new-key-file <path> (preferred) or --new-key <base64>');
      return 2;
    }
    if (parsed.newKey !== undefined) {
      ctx.err('warning: a key on the command line can end up in shell history; prefer --new-key-file');
    }
    const to = decodeKey(text);
    if (!to) {
      ctx.err('the new master key must be base64 of exactly 32 bytes (openssl rand -base64 32)');
      return 2;
    }
    if (to.equals(ctx.config.masterKey)) {
      ctx.err('the new master key is the configured one; nothing to rotate');
      return 2;
    }
    const report = await withOrm(ctx, (tenancy, audit) =>
      rotateMasterKey(tenancy, audit, {
        from: ctx.config.masterKey,
        to,
        companyIds,
        dryRun: parsed.dryRun,
        log: (line) => ctx.out(line),
      }),
    );
    ctx.out(
      `${parsed.dryRun ? 'would re-wrap' : 're-wrapped'} ${report.rewrapped}, already under ${report.toKeyId}: ` +
        `${report.alreadyDone}, without a data key: ${report.withoutKey}, failed: ${report.failed.length}`,
    );
    if (report.failed.length > 0) {
      ctx.err('some companies failed (listed above); fix the cause and run the command again');
      return 1;
    }
    if (!parsed.dryRun) {
      ctx.out(
        `Now restart every instance with TENANTRY_MASTER_KEY set to the new key (id ${report.toKeyId}), then run ` +
          'this same command once more (still with the old TENANTRY_MASTER_KEY) to re-wrap keys that instances ' +
          'on the old key created meanwhile. In development, put the new key into DATA_DIR/dev-secrets.json.',
      );
    }
    return 0;
  },
};
