import { describe, expect, it } from 'vitest';
import { MAIL_QUEUE_OPTIONS } from '../mail/mail-queue.schema.js';
import { invitationMail } from './invitation-mail.js';

describe('invitation mail', () => {
  const base = {
    to: 'bob@example.test',
    role: 'manager' as const,
    link: 'https://app.example/invitations/accept?token=inv_abc',
    expiresAt: new Date('2026-12-01T10:30:00Z'),
  };

  it('carries the link in text and HTML, with the expiry', () => {
    const mail = invitationMail({ ...base, companyName: 'Acme', inviterName: 'Ann' });
    expect(mail.subject).toBe('Join Acme on Tenantry');
    expect(mail.text).toContain('Ann invited you to join Acme on Tenantry as manager.');
    expect(mail.text).toContain(base.link);
    expect(mail.text).toContain('2026-12-01 10:30 UTC');
    expect(mail.html).toContain(`href="${base.link}"`);
  });

  it('escapes names in HTML and keeps control characters out of the subject', () => {
    const mail = invitationMail({
      ...base,
      companyName: 'Evil <b>Co</b>\r\nBcc: x@y',
      inviterName: undefined,
    });
    expect(mail.subject).not.toMatch(/[\r\n]/);
    expect(mail.html).toContain('Evil &lt;b&gt;Co&lt;/b&gt;');
    expect(mail.html).not.toContain('<b>Co</b>');
    expect(mail.text).toContain('You have been invited');
  });

  it('is retried by pg-boss with exponential backoff from 30 s, capped at an hour, ten attempts in all', () => {
    expect(MAIL_QUEUE_OPTIONS).toMatchObject({
      retryBackoff: true,
      retryDelay: 30,
      retryDelayMax: 3600,
      retryLimit: 9,
    });
  });
});
