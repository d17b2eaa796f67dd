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

function messageOptions(from: string, m: MailEnvelope) {
  return {
    from,
    to: m.to,
    subject: m.subject,
    text: m.text,
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
