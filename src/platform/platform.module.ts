import { Module } from '@nestjs/common';
import { OperatorAccessModule } from '../operator-access/operator-access.module.js';
import { PlatformController } from './platform.controller.js';
import { PlatformService } from './platform.service.js';

@Module({ imports: [OperatorAccessModule], controllers: [PlatformController], providers: [PlatformService] })
export class PlatformModule {}
