import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import nodemailer, { type Transporter } from 'nodemailer';
import type { AppConfig } from '../config/config.js';

export interface MailEnvelope {
  /** The outbox row's id (names the .eml file, and the Message-ID). */
  id: string;
  to: string;
  subject: string;
  text: string;
  html: string | null;
}

/** Delivers one message or throws. */
export interface MailTransport {
  readonly kind: 'smtp' | 'file';
  send(message: MailEnvelope): Promise<void>;
  close(): void;
}

export const MAIL_TRANSPORT = Symbol('MAIL_TRANSPORT');

/**
 * The plain-text part, pre-rendered so that links stay whole: nodemailer would pick quoted-printable for any
 * line over 76 characters and split a link with soft breaks (`=` + newline, `=3D` for `=`), which nobody can
 * copy from the raw message. Plain ASCII goes as `7bit`, anything else as `8bit` (RFC 6152), both with lines
 * as written (a link line stays under SMTP's 998-character limit).
 */
export function plainTextPart(text: string): { raw: string } {
  const body = text.replace(/\r?\n/g, '\r\n');
  // eslint-disable-next-line no-control-regex
  const encoding = /^[\x00-\x7f]*$/.test(text) ? '7bit' : '8bit';
  return {
    raw: `Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: ${encoding}\r\n\r\n${body}`,
  };
}

function messageOptions(from: string, m: MailEnvelope) {
  return {
    from,
    to: m.to,
    subject: m.subject,
    text: plainTextPart(m.text),
    ...(m.html ? { html: m.html } : {}),
    messageId: `<${m.id}@tenantry>`,
  };
}

/** `20261123T101502123Z`: sortable, and safe in a file name on every platform. */
function fileStamp(date: Date): string {
  return date.toISOString().replace(/[-:.]/g, '');
}

/**
 * Nodemailer with `SMTP_URL` set; otherwise every message is rendered to a complete RFC 5322 message and
 * written as `<MAIL_OUTBOX_DIR>/<timestamp>-<id>.eml`, which any mail client opens.
 */
export function createMailTransport(config: AppConfig): MailTransport {
  const { smtpUrl, from, outboxDir } = config.mail;
  if (smtpUrl) {
    const smtp: Transporter = nodemailer.createTransport(smtpUrl);
    return {
      kind: 'smtp',
      send: async (m) => {
        await smtp.sendMail(messageOptions(from, m));
      },
      close: () => smtp.close(),
    };
  }
  const stream = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    kind: 'file',
    send: async (m) => {
      const info = await stream.sendMail(messageOptions(from, m));
      await mkdir(outboxDir, { recursive: true, mode: 0o700 });
      // The message may carry a secret link: readable by its owner only.
      await writeFile(join(outboxDir, `${fileStamp(new Date())}-${m.id}.eml`), info.message, {
        mode: 0o600,
      });
    },
    close: () => stream.close(),
  };
}
