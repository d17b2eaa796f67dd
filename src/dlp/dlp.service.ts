import { Injectable } from '@nestjs/common';
import { EntityManager, LockMode, UniqueConstraintViolationException } from '@mikro-orm/postgresql';
import { LRUCache } from 'lru-cache';
import { AuditService } from '../audit/audit.service.js';
import type { DomainError } from '../common/errors/domain-errors.js';
import { UnsafePatternError } from '../common/safe-regex.js';
import { currentTenant, type TenantContext } from '../tenancy/request-store.js';
import { TenancyService } from '../tenancy/tenancy.service.js';
import { builtInFinder } from './detectors.js';
import { DlpPolicy } from './dlp-policy.entity.js';
import {
  compilePolicy,
  compileRule,
  findAll,
  walk,
  type CompiledPolicy,
  type CompiledRule,
  type DlpRule,
  type DlpScope,
  type Hit,
  type ScanResult,
} from './dlp-scan.js';
import {
  MAX_CUSTOM_RULES,
  type DlpPolicyDto,
  type DlpTestDto,
  type DlpTestResultDto,
  type PutDlpPolicyDto,
} from './dto/dlp.dto.js';
import { DlpErrors } from './dlp.errors.js';

/**
 * How long this process trusts a company's policy it has compiled. A change made through this process is seen at
 * once (PUT invalidates); one made through another instance is seen here within this time (like the access
 * cache's 5 s).
 */
export const DLP_POLICY_TTL_MS = 5_000;

/** Most field paths an event or a 422 names (the counts stay complete). */
const MAX_PATHS = 50;

interface LoadedPolicy {
  rules: DlpRule[];
  version: number;
  updatedAt: Date | null;
  compiled: CompiledPolicy;
}

/** What a scan found, as an audit event carries it: counts per detector and field paths, never a value. */
function summary(scope: DlpScope, hits: Hit[]): Record<string, unknown> {
  const detectors: Record<string, number> = {};
  const paths: string[] = [];
  for (const h of hits) {
    detectors[h.detector] = (detectors[h.detector] ?? 0) + h.count;
    if (!paths.includes(h.path) && paths.length < MAX_PATHS) paths.push(h.path);
  }
  return { scope, detectors, paths };
}

/** The 422 of a refused value: detector and field path of each blocking finding (at most MAX_PATHS), never the value. */
export function dlpBlocked(hits: Hit[]): DomainError {
  return DlpErrors.Blocked(hits.filter((h) => h.action === 'block').slice(0, MAX_PATHS));
}

/** The secret detector as a rule that blocks: listings always pass it, whatever the policy says. */
const LISTING_SECRET_RULE: CompiledRule = {
  detector: 'secret',
  action: 'block',
  find: builtInFinder('secret'),
};

function toRules(dto: PutDlpPolicyDto): DlpRule[] {
  let custom = 0;
  return dto.rules.map((r, i) => {
    if (r.detector === 'custom') {
      custom += 1;
      if (custom > MAX_CUSTOM_RULES) {
        throw DlpErrors.TooManyCustomRules(i, MAX_CUSTOM_RULES);
      }
      if (r.pattern === undefined) throw DlpErrors.PatternRequired(i);
    } else if (r.pattern !== undefined) {
      throw DlpErrors.PatternNotAllowed(i);
    }
    const rule: DlpRule = {
      detector: r.detector,
      action: r.action,
      ...(r.scopes !== undefined ? { scopes: [...r.scopes] } : {}),
      ...(r.pattern !== undefined ? { pattern: r.pattern } : {}),
    };
    try {
      compileRule(rule);
    } catch (error: unknown) {
      if (error instanceof UnsafePatternError) throw DlpErrors.UnsafePattern(i, error.reason);
      throw error;
    }
    return rule;
  });
}

/**
 * Data-loss prevention: the company's policy (read by members, set by admins), and the one scanning API every
 * enforcement point calls. `guard` scans a JSON value for a scope and refuses it (422 `DLP_BLOCKED`, its
 * `dlp.blocked` event committed in a transaction of its own, since the change it refuses never commits);
 * `record` writes the `dlp.redacted` / `dlp.detected` events of an accepted value in the transaction of the
 * change that stores or sends it. Events and errors carry detector counts and field paths only.
 */
@Injectable()
export class DlpService {
  private readonly cache = new LRUCache<string, Promise<LoadedPolicy>>({
    max: 10_000,
    ttl: DLP_POLICY_TTL_MS,
  });

  constructor(
    private readonly em: EntityManager,
    private readonly tenancy: TenancyService,
    private readonly audit: AuditService,
  ) {}

  async get(): Promise<DlpPolicyDto> {
    const p = await this.loaded();
    return { rules: p.rules, version: p.version, updatedAt: p.updatedAt?.toISOString() ?? null };
  }

  /** Replaces the policy (admin); audited with a summary of the rules (patterns are not copied into the trail). */
  async put(ctx: TenantContext, dto: PutDlpPolicyDto): Promise<DlpPolicyDto> {
    const rules = toRules(dto);
    const by = ctx.userId ?? ctx.principalId;
    const save = () =>
      this.em.transactional(async (tx) => {
        let row = await tx.findOne(DlpPolicy, {}, { lockMode: LockMode.PESSIMISTIC_WRITE });
        if (row) {
          row.rules = rules;
          row.version += 1;
          row.updatedBy = by;
          row.updatedAt = new Date();
        } else {
          row = new DlpPolicy(rules, by);
          tx.persist(row);
        }
        await tx.flush();
        await this.audit.record(
          {
            action: 'dlp.policy_updated',
            target: { type: 'DlpPolicy', id: row.id },
            metadata: {
              version: row.version,
              rules: rules.map((r) => ({
                detector: r.detector,
                action: r.action,
                scopes: r.scopes ?? 'all',
              })),
            },
          },
          tx,
        );
        return row;
      });
    let row: DlpPolicy;
    try {
      row = await save();
    } catch (e) {
      // Two first PUTs at once: the second finds the row the first inserted.
      if (!(e instanceof UniqueConstraintViolationException)) throw e;
      row = await save();
    }
    this.cache.delete(ctx.companyId);
    return { rules: row.rules, version: row.version, updatedAt: row.updatedAt.toISOString() };
  }

  /** Offsets of what every rule of the policy finds in `text` (all scopes); never the text. */
  async test(dto: DlpTestDto): Promise<DlpTestResultDto> {
    const { compiled } = await this.loaded();
    return findAll(compiled.all, dto.text);
  }

  /** Scans `value` with the scope's rules; writes nothing. */
  async inspect<T>(scope: DlpScope, value: T, path: string): Promise<ScanResult<T>> {
    const { compiled } = await this.loaded();
    return walk(compiled.byScope[scope], value, path);
  }

  /**
   * Scans `value`; when a `block` rule matched, records `dlp.blocked` in a transaction of its own and throws the
   * 422. Call it before the transaction of the change (the refusal must commit though the change does not).
   */
  async guard<T>(
    scope: DlpScope,
    value: T,
    path: string,
    target?: { type: string; id: string | null },
  ): Promise<ScanResult<T>> {
    const result = await this.inspect(scope, value, path);
    if (result.blocked) {
      await this.recordBlocked(scope, result.hits, target);
      throw dlpBlocked(result.hits);
    }
    return result;
  }

  /** `dlp.blocked` in a transaction of its own (the refused change writes nothing). */
  async recordBlocked(
    scope: DlpScope,
    hits: Hit[],
    target?: { type: string; id: string | null },
  ): Promise<void> {
    await this.audit.recordAlone({
      action: 'dlp.blocked',
      ...(target ? { target } : {}),
      metadata: summary(
        scope,
        hits.filter((h) => h.action === 'block'),
      ),
    });
  }

  /** The `dlp.blocked` event of a refusal that is part of another change (a run step failing), in `tx`. */
  async recordBlockedIn(
    tx: EntityManager,
    scope: DlpScope,
    hits: Hit[],
    target?: { type: string; id: string | null },
  ): Promise<void> {
    await this.audit.record(
      {
        action: 'dlp.blocked',
        ...(target ? { target } : {}),
        metadata: summary(
          scope,
          hits.filter((h) => h.action === 'block'),
        ),
      },
      tx,
    );
  }

  /** `dlp.redacted` and `dlp.detected` of an accepted value, in the transaction of the change. */
  async record(
    tx: EntityManager,
    scope: DlpScope,
    result: Pick<ScanResult<unknown>, 'hits'>,
    target?: { type: string; id: string | null },
  ): Promise<void> {
    const redacted = result.hits.filter((h) => h.action === 'redact');
    const detected = result.hits.filter((h) => h.action === 'audit');
    if (redacted.length > 0) {
      await this.audit.record(
        { action: 'dlp.redacted', ...(target ? { target } : {}), metadata: summary(scope, redacted) },
        tx,
      );
    }
    if (detected.length > 0) {
      await this.audit.record(
        { action: 'dlp.detected', ...(target ? { target } : {}), metadata: summary(scope, detected) },
        tx,
      );
    }
  }

  /**
   * For the marketplace: scans a listing snapshot with the `secret` detector (always, whatever the policy) and
   * the publisher's `listing` rules. A secret or a `block` rule refuses it: `dlp.blocked` is recorded in its own
   * transaction and the 422 thrown (detector and field path, no echo). Otherwise the (possibly redacted)
   * snapshot and its hits are returned; the caller writes them with `record(tx, 'listing', result)` in the
   * transaction that stores the listing.
   */
  async scanListing<T>(snapshot: T, path = 'listing'): Promise<ScanResult<T>> {
    const result = await this.inspectListing(snapshot, path);
    if (result.blocked) {
      await this.recordBlocked('listing', result.hits, { type: 'Listing', id: null });
      throw dlpBlocked(result.hits);
    }
    return result;
  }

  /** `scanListing` without the refusal: the secret detector (as `block`) and the `listing` rules; writes nothing. */
  async inspectListing<T>(snapshot: T, path = 'listing'): Promise<ScanResult<T>> {
    const { compiled } = await this.loaded();
    return walk([LISTING_SECRET_RULE, ...compiled.byScope.listing], snapshot, path);
  }

  /** `dlp.redacted` / `dlp.detected` in a transaction of their own (where the change's is out of reach). */
  async recordAlone(
    scope: DlpScope,
    result: Pick<ScanResult<unknown>, 'hits'>,
    target?: { type: string; id: string | null },
  ): Promise<void> {
    if (!result.hits.some((h) => h.action === 'redact' || h.action === 'audit')) return;
    await this.tenancy.requestEm().transactional((tx) => this.record(tx, scope, result, target));
  }

  /** Drops this process's copy of a company's policy. */
  invalidate(companyId: string): void {
    this.cache.delete(companyId);
  }

  /** The context company's policy, compiled, from the cache (concurrent misses share one read). */
  private loaded(): Promise<LoadedPolicy> {
    const tenant = currentTenant();
    let entry = this.cache.get(tenant.companyId);
    if (!entry) {
      // Read on a fork of its own in the same company (nothing lands in the caller's identity map or transaction).
      entry = this.tenancy
        .run(tenant, (em) => em.findOne(DlpPolicy, {}))
        .then((row) => ({
          rules: row?.rules ?? [],
          version: row?.version ?? 0,
          updatedAt: row?.updatedAt ?? null,
          compiled: compilePolicy(row?.rules ?? []),
        }));
      entry.catch(() => this.cache.delete(tenant.companyId));
      this.cache.set(tenant.companyId, entry);
    }
    return entry;
  }
}
