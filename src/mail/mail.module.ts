import { Module } from '@nestjs/common';
import type { AppConfig } from '../config/config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { MailOutboxService } from './mail-outbox.service.js';
import { createMailTransport, MAIL_TRANSPORT } from './mail-transport.js';

/** Outgoing mail: a transactional outbox, one pg-boss job per message, delivered by Nodemailer. */
@Module({
  providers: [
    MailOutboxService,
    { provide: MAIL_TRANSPORT, inject: [APP_CONFIG], useFactory: (c: AppConfig) => createMailTransport(c) },
  ],
  exports: [MailOutboxService],
})
export class MailModule {}
