import { Entity, Index, Property } from '@mikro-orm/decorators/legacy';
import { BaseEntity } from '../database/base.entity.js';

/**
 * One message waiting to be delivered (or delivered). This is a delivery queue, not tenant data: it has no
 * `company_id`, is written inside the transaction of the change that needs the mail (so a rolled-back change
 * sends nothing and a committed one is never lost) and drained by `MailOutboxService.drain()` after commit.
 * The body may hold a secret link (an invitation token): it is blanked once the message is sent or given up.
 */
@Entity({ tableName: 'mail_outbox' })
@Index({ name: 'mail_outbox_due_idx', properties: ['nextAttemptAt'] })
export class OutboxMessage extends BaseEntity {
  @Property({ length: 320 })
  recipient: string;

  @Property({ length: 300 })
  subject: string;

  @Property({ type: 'text' })
  text: string;

  @Property({ type: 'text', nullable: true })
  html: string | null = null;

  /** Delivery attempts started so far. */
  @Property({ type: 'integer', default: 0 })
  attempts: number = 0;

  /** Due from then on; a claimed message is leased by moving this into the future. */
  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  nextAttemptAt: Date = new Date();

  @Property({ type: 'timestamptz', nullable: true })
  sentAt: Date | null = null;

  /** Set when delivery was given up after the last attempt. */
  @Property({ type: 'timestamptz', nullable: true })
  failedAt: Date | null = null;

  @Property({ type: 'text', nullable: true })
  lastError: string | null = null;

  constructor(recipient: string, subject: string, text: string, html: string | null) {
    super();
    this.recipient = recipient;
    this.subject = subject;
    this.text = text;
    this.html = html;
  }
}
