import { Controller, Delete, Get, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { RouteConfig } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Authorize } from '../authz/authorize.decorator.js';
import { CallsOut } from '../tenancy/write-slots.js';
import { AppError } from '../common/errors/app-error.js';
import { type RouteBodyLimit } from '../common/json-body.js';
import { currentTenant } from '../tenancy/request-store.js';
import { callerOf } from './mcp-route-call.js';
import { screenMessage } from './mcp-screen.js';
import { McpService, transportHeaders } from './mcp.service.js';

const notAllowed = () =>
  new AppError(405, 'NOT_FOUND', 'This MCP server is stateless: POST each message to /mcp', undefined, {
    Allow: 'POST',
  });

/**
 * `/mcp`: the Model Context Protocol over Streamable HTTP, stateless (no session to resume, so none can be taken
 * over with another credential): every message is authenticated like any API request, and answered by a server
 * bound to that credential's company. Not in the OpenAPI document: it speaks JSON-RPC, not REST.
 */
@ApiExcludeController()
@Controller('mcp')
export class McpController {
  constructor(private readonly mcp: McpService) {}

  @Post()
  @Authorize('use', 'Mcp')
  // A transport holds no write slot itself: the routes its tool calls run hold theirs.
  @CallsOut()
  // Prototype keys and NULs reach `screenMessage`, which refuses them in JSON-RPC terms (not as a 400 problem).
  @RouteConfig({ jsonRpc: true } satisfies RouteBodyLimit)
  message(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    return this.handle(request, reply);
  }

  /** No server-initiated stream in stateless mode: 405, as the protocol allows (code NOT_FOUND, like any 405 here). */
  @Get()
  @Authorize('use', 'Mcp')
  // A transport holds no write slot itself: the routes its tool calls run hold theirs.
  @CallsOut()
  stream(): never {
    throw notAllowed();
  }

  /** No session to end in stateless mode: 405, as the protocol allows. */
  @Delete()
  @Authorize('use', 'Mcp')
  // A transport holds no write slot itself: the routes its tool calls run hold theirs.
  @CallsOut()
  end(): never {
    throw notAllowed();
  }

  private async handle(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const refusal = screenMessage(request.body);
    if (refusal) {
      await reply.status(200).type('application/json').send(JSON.stringify(refusal));
      return;
    }
    const caller = callerOf(request, reply);
    const answer = await this.mcp.answerToolCall(
      currentTenant(),
      caller,
      request.body,
      transportHeaders(request),
    );
    if (answer) {
      await reply.status(200).type('application/json').send(JSON.stringify(answer));
      return;
    }
    const server = this.mcp.serverFor(currentTenant(), caller);
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    // The transport writes the raw response: carry over what the hooks and the guard set (request id, rate limits).
    for (const [name, value] of Object.entries(reply.getHeaders())) {
      if (value !== undefined) reply.raw.setHeader(name, value);
    }
    reply.hijack();
    reply.raw.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(request.raw, reply.raw, request.body);
  }
}
