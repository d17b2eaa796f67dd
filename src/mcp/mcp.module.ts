import { Module } from '@nestjs/common';
import { McpMetadataController } from './mcp-metadata.controller.js';
import { McpController } from './mcp.controller.js';
import { McpFastPath } from './mcp-fast-path.js';
import { McpService } from './mcp.service.js';

@Module({
  controllers: [McpController, McpMetadataController],
  providers: [McpService, McpFastPath],
  exports: [McpService, McpFastPath],
})
export class McpModule {}
