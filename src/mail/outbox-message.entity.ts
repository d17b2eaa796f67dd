import { Entity, Index, Property } from '@mikro-orm/decorators/legacy';
import { TenantEntity } from '../tenancy/tenant.entity.js';

/**
 * Keeps the company's drain marker (`companies.mail_due_at`) at or before this message's next attempt while it
 * waits, so the drainer finds the company without reading any company's mail. It locks the company row first
 * (`FOR NO KEY UPDATE`, which foreign-key checks never wait for), so it serialises with the drainer's re-arm
 * (`MailOutboxService`): a message committed while the drainer recomputes the marker is either seen by it or
 * lowers the marker after it. Sent or given-up messages, and updates that leave `next_attempt_at` alone, do
 * nothing. Runs as the invoker (the app role), like the change that wrote the message.
 */
const WAKE_DRAINER = `if new.sent_at is null and new.failed_at is null
  and (tg_op = 'INSERT' or new.next_attempt_at is distinct from old.next_attempt_at) then
  perform 1 from companies where id = new.company_id for no key update;
  update companies set mail_due_at = new.next_attempt_at
   where id = new.company_id and (mail_due_at is null or mail_due_at > new.next_attempt_at);
end if;
return null;`;

/**
 * One message of a company waiting to be delivered (or delivered). Company data like any other (recipient,
 * subject, a body with a secret link): a tenant table under row-level security, so a company purge removes it
 * (ON DELETE CASCADE) and only that company's context reads it. Written inside the transaction of the change
 * that needs the mail (so a rolled-back change sends nothing and a committed one is never lost) and drained by
 * `MailOutboxService.drain()` after commit, one company context at a time. The body is blanked once the
 * message is sent or given up.
 */
@Entity({
  tableName: 'mail_outbox',
  triggers: [
    {
      name: 'wake_drainer',
      timing: 'after',
      events: ['insert', 'update'],
      forEach: 'row',
      body: WAKE_DRAINER,
    },
  ],
})
@Index({ name: 'mail_outbox_company_due_idx', properties: ['companyId', 'nextAttemptAt'] })
export class OutboxMessage extends TenantEntity {
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
