import { Entity, Property } from '@mikro-orm/decorators/legacy';
import { TenantEntity } from '../tenancy/tenant.entity.js';

/**
 * One message of a company waiting to be delivered (or delivered). Company data like any other (recipient,
 * subject, a body with a secret link): a tenant table under row-level security, so a company purge removes it
 * (ON DELETE CASCADE) and only that company's context reads it. Written inside the transaction of the change
 * that needs the mail, together with its pg-boss delivery job (so a rolled-back change sends nothing and a
 * committed one is never lost); the job delivers it in the company's context (`MailOutboxService`). The body is
 * blanked once the message is sent or given up.
 */
@Entity({ tableName: 'mail_outbox' })
export class OutboxMessage extends TenantEntity {
  @Property({ length: 320 })
  recipient: string;

  @Property({ length: 300 })
  subject: string;

  @Property({ type: 'text' })
  text: string;

  @Property({ type: 'text', nullable: true })
  html: string | null = null;

  /** Delivery attempts made so far (pg-boss schedules them; this records them). */
  @Property({ type: 'integer', default: 0 })
  attempts: number = 0;

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
