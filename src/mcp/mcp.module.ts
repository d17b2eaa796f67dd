import { Module } from '@nestjs/common';
import { McpMetadataController } from './mcp-metadata.controller.js';
import { McpController } from './mcp.controller.js';
import { McpFastPath } from './mcp-fast-path.js';
import { McpRouteRunner } from './mcp-route-runner.js';
import { McpService } from './mcp.service.js';

@Module({
  controllers: [McpController, McpMetadataController],
  providers: [McpService, McpFastPath, McpRouteRunner],
  exports: [McpService, McpFastPath],
})
export class McpModule {}
