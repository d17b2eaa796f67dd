import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum.js';
import type { FastifyRequest } from 'fastify';
import { Errors } from './errors/app-error.js';

/** Parameter kinds through which a handler reads the body: `@Body()`, `@RawBody()`, or the whole `@Req()`. */
const READS_BODY = [RouteParamtypes.BODY, RouteParamtypes.RAW_BODY, RouteParamtypes.REQUEST];

/** Whether a handler declares a body, from the route-argument metadata Nest records per handler. */
export function declaresBody(controller: object, handler: string): boolean {
  const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, handler) ?? {}) as Record<
    string,
    unknown
  >;
  // Keys are `<paramtype>:<index>` (custom decorators: `<name>__customRouteArgs__:<index>`).
  return Object.keys(args).some((key) => READS_BODY.includes(Number(key.split(':')[0])));
}

function isEmpty(body: unknown): boolean {
  if (body === undefined || body === null || body === '') return true;
  return typeof body === 'object' && !Array.isArray(body) && Object.keys(body).length === 0;
}

/**
 * API.md: a body carrying `companyId` or any field the route does not declare is refused with 400, never
 * silently ignored. The validation pipe enforces that for every `@Body()` DTO; a handler that takes no body has
 * no DTO to validate against, so this global guard (the second APP_GUARD, after the authorization guard: a caller
 * who may not use the route learns nothing more) refuses any non-empty body there. No body, an empty one and `{}`
 * stay accepted (clients often send `{}` on a POST). A guard rather than an interceptor: an interceptor puts every
 * request of every route through an RxJS pipeline, a measurable cost on the fast reads (docs/benchmarks.md).
 */
@Injectable()
export class UndeclaredBodyGuard implements CanActivate {
  private readonly declared = new WeakMap<(...args: never[]) => unknown, boolean>();

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() === 'http') {
      const handler = context.getHandler() as (...args: never[]) => unknown;
      let declared = this.declared.get(handler);
      if (declared === undefined) {
        declared = declaresBody(context.getClass(), handler.name);
        this.declared.set(handler, declared);
      }
      const body = context.switchToHttp().getRequest<FastifyRequest>().body;
      if (!declared && !isEmpty(body)) {
        const fields =
          typeof body === 'object' && body !== null && !Array.isArray(body) ? Object.keys(body) : [];
        throw Errors.validation(
          'This route takes no request body: send none (or {})',
          fields.length > 0
            ? fields.map((field) => ({ field, message: `${field} is not an accepted field` }))
            : [{ field: 'body', message: 'must be empty: this route takes no body' }],
        );
      }
    }
    return true;
  }
}
