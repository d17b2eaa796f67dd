import { defineFeature } from '../feature/feature.js';
import { McpModule } from './mcp.module.js';

declare module '../authz/abilities.js' {
  interface FeatureSubjects {
    /** The MCP transport itself; each tool needs the permission of the route it mirrors. */
    Mcp: true;
  }
  interface FeatureActions {
    use: true;
  }
}

export const mcpFeature = defineFeature({
  name: 'mcp',
  module: McpModule,
  permissions: [
    {
      name: 'mcp:use',
      description: 'Use the MCP server (each tool still checks its own route permission)',
      role: 'member',
      rules: [{ actions: ['use'], subject: 'Mcp' }],
    },
  ],
});
