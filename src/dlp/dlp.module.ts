import { Global, Module } from '@nestjs/common';
import { DlpController } from './dlp.controller.js';
import { DlpService } from './dlp.service.js';

/**
 * Data-loss prevention: the company's policy and the scanning service the enforcement points call (runs, the
 * run engine, boards, wiki, the marketplace). Global so that those modules need no import of their own.
 */
@Global()
@Module({ controllers: [DlpController], providers: [DlpService], exports: [DlpService] })
export class DlpModule {}
