import { Entity, Enum, Index, ManyToOne, Property } from '@mikro-orm/decorators/legacy';
import { Account } from '../accounts/account.entity.js';
import { BaseEntity } from '../database/base.entity.js';

/** The company's operator access policy (API.md "Platform operators"). */
export const OPERATOR_ACCESS_POLICIES = ['open', 'approval', 'off'] as const;
export type OperatorAccessPolicy = (typeof OPERATOR_ACCESS_POLICIES)[number];

/**
 * A tenant. The registry of companies is not tenant-owned data: it holds a company's name, slug and settings,
 * and is only ever read by the id of the caller's own context (or, for the platform directory, as metadata).
 * Every tenant table references it with ON DELETE CASCADE, which is how a purge removes a company's rows.
 */
@Entity({ tableName: 'companies' })
export class Company extends BaseEntity {
  @Property({ length: 200 })
  name: string;

  @Property({ length: 80, unique: true })
  slug: string;

  /** The account (billing entity) that owns the company: a registry reference, never a tenant scope. */
  @Index({ name: 'companies_account_idx' })
  @ManyToOne(() => Account, { mapToPk: true, fieldName: 'account_id' })
  accountId: string;

  /** Requests per minute for this company; null means the platform default. */
  @Property({ type: 'integer', nullable: true })
  rateLimitPerMinute: number | null = null;

  /** Requests per minute for each person (across their sessions, API keys and applications); null means none. */
  @Property({ type: 'integer', nullable: true })
  userRateLimitPerMinute: number | null = null;

  @Property({ type: 'integer', default: 4 })
  maxConcurrentRuns: number = 4;

  /** Runs that may be started per calendar month (UTC); null means unlimited. */
  @Property({ type: 'integer', nullable: true })
  monthlyRunBudget: number | null = null;

  /** Four-eyes rule: the starter of a run may not approve it. */
  @Property({ type: 'boolean', default: true })
  fourEyes: boolean = true;

  /**
   * Whether platform operators may switch in: `open` (on their own reason), `approval` (an admin of the company
   * approves each request first) or `off` (never, except the CLI's audited break-glass). See `src/operator-access`.
   */
  @Enum({ items: () => OPERATOR_ACCESS_POLICIES, nativeEnumName: undefined, default: 'open' })
  operatorAccess: OperatorAccessPolicy = 'open';

  @Property({ type: 'timestamptz', onUpdate: () => new Date(), defaultRaw: 'now()' })
  updatedAt: Date = new Date();

  /** Set when the owner scheduled deletion; the company is purged after `purgeAfter`. */
  @Index({ name: 'companies_purge_after_idx' })
  @Property({ type: 'timestamptz', nullable: true })
  purgeAfter: Date | null = null;

  @Property({ type: 'timestamptz', nullable: true })
  deletionRequestedAt: Date | null = null;

  constructor(name: string, slug: string, accountId: string) {
    super();
    this.name = name;
    this.slug = slug;
    this.accountId = accountId;
  }
}
