import { Entity, Index, Property } from '@mikro-orm/decorators/legacy';
import { BaseEntity } from '../database/base.entity.js';

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

  @Property({ type: 'timestamptz', onUpdate: () => new Date(), defaultRaw: 'now()' })
  updatedAt: Date = new Date();

  /** Set when the owner scheduled deletion; the company is purged after `purgeAfter`. */
  @Index({ name: 'companies_purge_after_idx' })
  @Property({ type: 'timestamptz', nullable: true })
  purgeAfter: Date | null = null;

  @Property({ type: 'timestamptz', nullable: true })
  deletionRequestedAt: Date | null = null;

  /**
   * When the company's earliest waiting mail is due (null: none waits). Kept by the `mail_outbox` trigger and
   * the mail drainer, so the drainer lists companies with due mail from this registry and then reads each
   * company's outbox in that company's own context. It reveals no mail, only that some is due.
   */
  @Index({ name: 'companies_mail_due_idx' })
  @Property({ type: 'timestamptz', nullable: true })
  mailDueAt: Date | null = null;

  constructor(name: string, slug: string) {
    super();
    this.name = name;
    this.slug = slug;
  }
}
