import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MailOutboxService, type DrainReport } from '../../src/mail/mail-outbox.service.js';
import type { TestApp } from './app.js';

/** A fresh directory for the `.eml` outbox of one suite (pass as MAIL_OUTBOX_DIR). */
export function tempOutbox(): string {
  return mkdtempSync(join(tmpdir(), 'tenantry-mail-'));
}

export interface OutboxMail {
  file: string;
  to: string;
  subject: string;
  /** The message with quoted-printable soft breaks and escapes decoded (good enough to find links). */
  body: string;
}

function decodeQuotedPrintable(raw: string): string {
  return raw
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** Every `.eml` file of the outbox, oldest first. */
export function readOutbox(dir: string): OutboxMail[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.eml'))
    .sort()
    .map((file) => {
      const raw = readFileSync(join(dir, file), 'utf8');
      return {
        file,
        to: /^To: (.*)$/m.exec(raw)?.[1]?.trim() ?? '',
        subject: /^Subject: (.*)$/m.exec(raw)?.[1]?.trim() ?? '',
        body: decodeQuotedPrintable(raw),
      };
    });
}

/** Delivers due mail now (the scheduler is off in tests). */
export function drainMail(t: TestApp): Promise<DrainReport> {
  return t.app.get(MailOutboxService).drain();
}

/** The accept link of the newest invitation mailed to `email`, and its token. */
export function invitationLink(dir: string, email: string): { link: string; token: string } {
  const mails = readOutbox(dir).filter((m) => m.to === email);
  const last = mails[mails.length - 1];
  if (!last) throw new Error(`no mail to ${email} in ${dir}`);
  const match = /(https?:\/\/\S+\/invitations\/accept\?token=(inv_[A-Za-z0-9_-]+))/.exec(last.body);
  if (!match) throw new Error(`no invitation link in ${last.file}`);
  return { link: match[1], token: decodeURIComponent(match[2]) };
}
