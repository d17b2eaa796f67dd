import { Inject, Injectable, SetMetadata } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { requestLifetime } from '../common/request-lifetime.js';
import { CompanyWriteGate, WRITE_GATE } from './company-write-gate.js';
import { currentTenant } from './request-store.js';

export const CALLS_OUT = 'tenantry:calls-out';

/**
 * Marks a mutating route whose handler waits on the outside world (an outbound HTTP call): the guard takes no
 * write slot for it, so slow endpoints cannot pause the company's writes. The handler takes a slot around its
 * own database writes with `WriteSlots.run`, and holds no transaction (so no connection) while it calls out.
 */
export const CallsOut = () => SetMetadata(CALLS_OUT, true);

/**
 * The company write slots of requests (see `CompanyWriteGate`). Every slot is tied to the request's end
 * (`requestLifetime`): it is given back once, whether the response was sent, the client gave up or an error
 * closed the connection, and a request that ends while queued leaves the queue.
 */
@Injectable()
export class WriteSlots {
  constructor(@Inject(WRITE_GATE) private readonly gate: CompanyWriteGate) {}

  /** Takes one of `companyId`'s slots for the rest of the request `reply` answers. */
  async holdForRequest(reply: FastifyReply, companyId: string): Promise<void> {
    const lifetime = requestLifetime(reply.raw);
    lifetime.hold(await this.gate.acquire(companyId, lifetime.signal));
  }

  /** Runs `write` holding one of the current company's slots (for `@CallsOut()` routes around their writes). */
  async run<T>(write: () => Promise<T>): Promise<T> {
    const release = await this.gate.acquire(currentTenant().companyId);
    try {
      return await write();
    } finally {
      release();
    }
  }
}
