import { Catch, Inject, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
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
): void {
  const rendered = toProblem(error, String(request.id));
  if (rendered.serverFault) {
    logger.error({ ...contextBindings(), requestId: request.id, err: error }, 'request failed');
  } else if (rendered.wallHit) {
    logger.warn(
      { ...contextBindings(), requestId: request.id, err: error },
      'row-level security refused a statement',
    );
  }
  if (rendered.body.status === 401) {
    // RFC 6750 and the MCP authorization spec: say how to authenticate, and where the resource's metadata is.
    const origin = `${request.protocol}://${request.host}`;
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
  constructor(@Inject(ROOT_LOGGER) private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    sendProblem(exception, http.getRequest<FastifyRequest>(), http.getResponse<FastifyReply>(), this.logger);
  }
}
