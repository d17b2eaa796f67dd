import { describe, expect, it } from 'vitest';
import { backoffMs } from '../mail/mail-outbox.service.js';
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

  it('backs off exponentially, capped at an hour', () => {
    expect([1, 2, 3].map(backoffMs)).toEqual([30_000, 60_000, 120_000]);
    expect(backoffMs(20)).toBe(3_600_000);
  });
});
