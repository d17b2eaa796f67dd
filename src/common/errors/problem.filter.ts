import { Catch, Inject, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { AppConfig } from '../../config/config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { currentStore } from '../../tenancy/request-store.js';
import { contextBindings } from '../logger.js';
import { PROBLEM_CONTENT_TYPE } from './problem.js';
import { toProblem } from './to-problem.js';

export const ROOT_LOGGER = Symbol('ROOT_LOGGER');

/** Renders a thrown error as problem+json; 500s log their cause with the request id and never leak it. */
export function sendProblem(
  error: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
  logger: Logger,
  /** The service's public origin (configuration, never the request's Host header). */
  publicOrigin?: string,
): void {
  const rendered = toProblem(error, String(request.id));
  const store = currentStore();
  if (store && rendered.domainCode) store.domainError = rendered.domainCode;
  if (rendered.serverFault) {
    logger.error({ ...contextBindings(), requestId: request.id, err: error }, 'request failed');
  } else if (rendered.wallHit) {
    logger.warn(
      { ...contextBindings(), requestId: request.id, err: error },
      'row-level security refused a statement',
    );
  }
  if (rendered.body.status === 401 && publicOrigin) {
    // RFC 6750 and the MCP authorization spec: say how to authenticate, and where the resource's metadata is.
    const origin = publicOrigin;
    void reply.header(
      'WWW-Authenticate',
      `Bearer realm="tenantry", resource_metadata="${origin}/.well-known/oauth-protected-resource"`,
    );
  }
  void reply
    .status(rendered.body.status)
    .headers(rendered.headers)
    .header('content-type', PROBLEM_CONTENT_TYPE)
    .send(JSON.stringify(rendered.body));
}

/** The one global exception filter (registered as APP_FILTER). */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  constructor(
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    sendProblem(
      exception,
      http.getRequest<FastifyRequest>(),
      http.getResponse<FastifyReply>(),
      this.logger,
      this.config.publicAppUrl,
    );
  }
}
