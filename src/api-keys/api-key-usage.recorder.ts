import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { TenancyService } from '../tenancy/tenancy.service.js';
import { systemContext } from '../tenancy/request-store.js';
import { ApiKey } from './api-key.entity.js';

/** How often recorded uses are written (and so how far `lastUsedAt` may lag behind real use). */
export const USAGE_FLUSH_INTERVAL_MS = 30_000;
const MAX_PENDING = 100_000;

/**
 * `lastUsedAt` without a write per request: a use is noted in memory, and every 30 s (and at shutdown) the
 * latest use of each key is written, one transaction per company, inside that company's context. A process that
 * dies without shutting down loses at most the last interval's timestamps, which is acceptable for a "last used"
 * hint (it decides nothing).
 */
@Injectable()
export class ApiKeyUsageRecorder implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('ApiKeyUsageRecorder');
  /** companyId → keyId → latest use. */
  private pending = new Map<string, Map<string, Date>>();
  private size = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;

  constructor(private readonly tenancy: TenancyService) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.flush(), USAGE_FLUSH_INTERVAL_MS);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  touch(companyId: string, keyId: string, at: Date = new Date()): void {
    let keys = this.pending.get(companyId);
    if (!keys) {
      keys = new Map();
      this.pending.set(companyId, keys);
    }
    if (!keys.has(keyId)) this.size++;
    keys.set(keyId, at);
    if (this.size >= MAX_PENDING) void this.flush();
  }

  /** Writes every pending use. Safe to call at any time (the tests call it directly). */
  async flush(): Promise<void> {
    if (this.flushing) await this.flushing;
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    this.size = 0;
    this.flushing = this.write(batch).finally(() => {
      this.flushing = undefined;
    });
    await this.flushing;
  }

  private async write(batch: Map<string, Map<string, Date>>): Promise<void> {
    for (const [companyId, keys] of batch) {
      try {
        await this.tenancy.run(systemContext(companyId), (em) =>
          em.transactional(async (tx) => {
            for (const [id, at] of keys) {
              // Never move the timestamp backwards (another instance may have written a later use).
              await tx.nativeUpdate(
                ApiKey,
                { id, $or: [{ lastUsedAt: null }, { lastUsedAt: { $lt: at } }] },
                { lastUsedAt: at },
              );
            }
          }),
        );
      } catch (error) {
        this.logger.warn(`Could not record API key use in company ${companyId}: ${String(error)}`);
      }
    }
  }
}
