import type { Role } from '../authz/roles.js';
import type { MailContent } from '../mail/mail-outbox.service.js';

function escapeHtml(value: string): string {
  return value
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/** Header-safe: no control characters (a company name could carry a newline). */
function oneLine(value: string): string {
  // eslint-disable-next-line no-control-regex
  return value.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
}

export interface InvitationMailInput {
  to: string;
  companyName: string;
  role: Role;
  inviterName: string | undefined;
  /** The accept link, with the token. */
  link: string;
  expiresAt: Date;
}

/** The invitation message: plain text and HTML, each with the accept link. */
export function invitationMail(input: InvitationMailInput): MailContent {
  const company = oneLine(input.companyName);
  const inviter = input.inviterName ? oneLine(input.inviterName) : undefined;
  const who = inviter ? `${inviter} invited you` : 'You have been invited';
  const expires = input.expiresAt.toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
  const text = [
    `${who} to join ${company} on Tenantry as ${input.role}.`,
    '',
    'Accept the invitation:',
    input.link,
    '',
    `The link works once and expires on ${expires}. If you did not expect this invitation, ignore this message.`,
    '',
  ].join('\n');
  const html = [
    '<!doctype html><html><body style="font-family: sans-serif">',
    `<p>${escapeHtml(who)} to join <strong>${escapeHtml(company)}</strong> on Tenantry as ${escapeHtml(input.role)}.</p>`,
    `<p><a href="${escapeHtml(input.link)}">Accept the invitation</a></p>`,
    `<p>The link works once and expires on ${escapeHtml(expires)}. If you did not expect this invitation, ignore this message.</p>`,
    '</body></html>',
  ].join('\n');
  return { to: input.to, subject: `Join ${company} on Tenantry`, text, html };
}
