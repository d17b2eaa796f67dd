import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { SwaggerModule } from '@nestjs/swagger';
import { MikroORM } from '@mikro-orm/postgresql';
import type { FastifyRequest } from 'fastify';
import { AppModule, type AppOptions } from './app.module.js';
import { RATE_LIMITER } from './authz/request-limits.js';
import { drainRefusedBodies } from './common/drain-refused-body.js';
import { BODY_LIMIT_BYTES, registerBodyParsers } from './common/json-body.js';
import { NestPinoLogger } from './common/logger.js';
import { requestLifetime } from './common/request-lifetime.js';
import { clientErrorHandler, frameworkErrorHandler } from './common/errors/fastify-errors.js';
import { type RateLimiter, rateLimitHeaders } from './common/rate-limiter.js';
import { McpFastPath } from './mcp/mcp-fast-path.js';
import { McpService } from './mcp/mcp.service.js';
import { buildOpenApiDocument } from './openapi.js';
import { newStore, requestStorage } from './tenancy/request-store.js';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Accepts a well-formed incoming `X-Request-Id`, else generates one: a random UUID (v4, from Node's buffered
 * entropy; unlike resource ids a request id needs no time order, and a v7 costs a random fill per request).
 */
export function requestIdOf(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value && REQUEST_ID.test(value) ? value : randomUUID();
}

function createAdapter(options: AppOptions): FastifyAdapter {
  return new FastifyAdapter({
    bodyLimit: BODY_LIMIT_BYTES,
    trustProxy: options.config.trustProxy,
    genReqId: (req: IncomingMessage) => requestIdOf(req.headers['x-request-id']),
    routerOptions: { maxParamLength: 200 },
    // Errors Fastify and Node's parser answer before any route runs: problem+json like every other error.
    frameworkErrors: frameworkErrorHandler(options.logger),
    clientErrorHandler: clientErrorHandler(options.logger),
  });
}

/** Request-scoped plumbing that must wrap everything Nest does: request id, async context, access log. */
function installHooks(app: NestFastifyApplication, options: AppOptions): void {
  const { logger } = options;
  const fastify = app.getHttpAdapter().getInstance();
  const orm = app.get(MikroORM);
  const limiter = app.get<RateLimiter>(RATE_LIMITER);

  fastify.addHook('onRequest', (request, reply, done) => {
    // Before anything is acquired for the request: everything held until its end is released from here.
    requestLifetime(reply.raw);
    void reply.header('X-Request-Id', request.id);
    const store = newStore(orm.em, {
      requestId: String(request.id),
      ip: request.ip,
      userAgent: request.headers['user-agent'],
    });
    // One async context per request; its EntityManager fork is created if and when the request uses the ORM.
    requestStorage.run(store, done);
  });

  fastify.addHook('onSend', (request: FastifyRequest, reply, payload, done) => {
    if (!reply.hasHeader('ratelimit')) {
      const state = limiter.peek(`ip:${request.ip}`, options.config.rateLimit.publicPerMinute);
      void reply.headers(rateLimitHeaders([{ policy: 'ip', state }]));
    }
    done(null, payload);
  });

  fastify.addHook('onResponse', (request, reply, done) => {
    const store = requestStorage.getStore();
    const line = {
      requestId: request.id,
      companyId: store?.tenant?.companyId,
      method: request.method,
      route: request.routeOptions.url,
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 10) / 10,
      ...(store?.domainError ? { error: store.domainError } : {}),
      ...(store?.toolCall ? { tool: store.toolCall } : {}),
    };
    if (reply.statusCode >= 500 || (store?.toolCall?.status ?? 0) >= 500) logger.error(line, 'request');
    else logger.info(line, 'request');
    done();
  });

  registerBodyParsers(fastify);
  drainRefusedBodies(fastify);
  // A plain MCP tool call is answered before the transport's Nest route (attached as the routes are registered).
  app.get(McpFastPath).install(fastify);
}

/** Builds the application (not listening). Used by `main.ts`, the tests and the benchmarks alike. */
export async function createApp(options: AppOptions): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(options),
    createAdapter(options),
    {
      logger: new NestPinoLogger(options.logger),
      abortOnError: false,
      // Tenantry registers its own JSON and form parsers (limits, depth, prototype keys): see common/json-body.ts.
      bodyParser: false,
    },
  );
  // No `enableShutdownHooks()`: the entry point (server.ts) owns SIGTERM/SIGINT and closes the app, then stops the
  // embedded database and flushes the logs; Nest's hook would race it and re-raise the signal before either ran.
  installHooks(app, options);
  // Types and validation rules of the DTOs, extracted by the Swagger plugin (`npm run openapi` regenerates it).
  const { default: pluginMetadata } = await import('./metadata.js');
  await SwaggerModule.loadPluginMetadata(pluginMetadata);
  const document = buildOpenApiDocument(app);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'openapi.json', raw: ['json'] });
  // The MCP tools' input and output schemas come from the same document (the same DTOs).
  app.get(McpService).useDocument(document);
  await app.init();
  return app;
}
