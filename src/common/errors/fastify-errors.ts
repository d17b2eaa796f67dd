import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { newId } from '../ids.js';
import { problem, PROBLEM_CONTENT_TYPE } from './problem.js';
import { sendProblem } from './problem.filter.js';

/**
 * Fastify's `frameworkErrors`: errors its router raises before a route (and Nest's filter) exists for the request
 * (`FST_ERR_MAX_PARAM_LENGTH`: 414, `FST_ERR_BAD_URL`: 400). Rendered by the same `sendProblem` as every other
 * error, with the request id: application/problem+json, our shape.
 */
export function frameworkErrorHandler(logger: Logger) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void => {
    void reply.header('X-Request-Id', request.id);
    sendProblem(error, request, reply, logger);
  };
}

/** What Node's HTTP parser refused, in our words (the parser's codes are `HPE_*`). */
function clientErrorOf(err: NodeJS.ErrnoException): { status: number; detail: string } {
  switch (err.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, detail: 'The request was not received in time' };
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, detail: 'The request line and headers exceed the allowed size' };
    case 'HPE_INVALID_CONTENT_LENGTH':
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
      return { status: 400, detail: 'Invalid Content-Length' };
    case 'HPE_INVALID_TRANSFER_ENCODING':
      return { status: 400, detail: 'Invalid Transfer-Encoding' };
    default:
      return { status: 400, detail: 'Malformed HTTP request' };
  }
}

/**
 * Fastify's `clientErrorHandler`: requests Node's HTTP parser refused (a malformed Content-Length, Content-Length
 * beside Transfer-Encoding, oversized headers, a timeout) never become requests, so no hook or filter sees them.
 * They answer application/problem+json in our shape all the same, with a fresh request id (also in the log), and
 * the connection is closed, as Node does.
 */
export function clientErrorHandler(logger: Logger) {
  return (err: NodeJS.ErrnoException, socket: Socket): void => {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const { status, detail } = clientErrorOf(err);
    const requestId = newId();
    logger.info({ requestId, err: { code: err.code, message: err.message }, status }, 'client error');
    if (socket.writable) {
      const body = JSON.stringify(problem(status, 'VALIDATION_FAILED', detail, requestId));
      socket.write(
        `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Bad Request'}\r\n` +
          `Content-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
          `X-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy(err);
  };
}
