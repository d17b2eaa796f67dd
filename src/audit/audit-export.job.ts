import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { AppConfig } from '../config/config.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { ScheduledTask } from '../scheduler/scheduled-queues.js';
import { Scheduler } from '../scheduler/scheduler.service.js';
import { lockCompany } from '../tenancy/company-lock.js';
import { systemContext, type TenantContext } from '../tenancy/request-store.js';
import { TenancyService } from '../tenancy/tenancy.service.js';
import { AuditExportCursor } from './audit-export-cursor.entity.js';
import { exportCompanyTrail } from './audit-export.js';
import { AuditQueryService, type ChainHead, type SeqRange, type TimeRange } from './audit-query.service.js';
import { AuditService } from './audit.service.js';
import { exportTargetFromUrl, type ExportTarget } from './export-target.js';

/** The scheduler task of the incremental export. */
export const AUDIT_EXPORT_TASK = 'audit.export' satisfies ScheduledTask;

/** The context of the export job in one company: a `system` principal with the least role that reads the trail. */
export const exportContext = (companyId: string): TenantContext =>
  systemContext(companyId, 'system', 'admin');

export interface CompanyExport {
  companyId: string;
  /** Events written to the target. */
  exported: number;
  range: SeqRange | null;
  /** Seq of the `audit.exported` event recording it; null when nothing was written (and nothing recorded). */
  eventSeq: number | null;
}

/**
 * The audit export job: writes companies' events to a target as `audit/{companyId}/{yyyy}/{mm}/{dd}/{eventId}.json`
 * and records each export in the company's own chain (`audit.exported`, actor `system`). It connects as the
 * application role and works on each company inside `TenancyService.run` with a system context, so both
 * tenancy walls hold as for any job; only the list of company ids comes from the companies registry.
 *
 * - `exportRange` (the command line): the piece of the chain between two times.
 * - `exportIncremental` (the scheduler, or `audit export --incremental`): the events after the company's
 *   watermark for this target (`audit_export_cursors`), up to the chain head. The `audit.exported` event it
 *   appends is after that head, so it is exported by the next run that has something else to export; a run
 *   that would export only the previous run's own event does nothing, so an idle company is not re-exported
 *   (and its chain does not grow) every interval.
 *
 * A company whose piece is empty is not written to and gets no event. Writing is idempotent (one event, one key,
 * the same bytes), so a crash between writing and recording only means the next run writes the piece again.
 */
export class AuditExporter {
  constructor(
    private readonly tenancy: TenancyService,
    private readonly queries: AuditQueryService,
    private readonly audit: AuditService,
    readonly target: ExportTarget,
  ) {}

  /** Every company id in the registry (or just `only`, when it exists), in id order. */
  companyIds(only?: string): Promise<string[]> {
    return this.tenancy.companyIds(only);
  }

  /** The events of one company that occurred between `range.from` and `range.to` (both optional). */
  exportRange(companyId: string, range: TimeRange): Promise<CompanyExport> {
    return this.tenancy.run(exportContext(companyId), async (em) => {
      const head = await this.queries.head(em);
      const piece = await this.queries.seqRange(em, range, head.seq);
      if (!piece) return { companyId, exported: 0, range: null, eventSeq: null };
      const { exported } = await exportCompanyTrail(this.queries, em, piece, this.target);
      const eventSeq = await em.transactional((tx) =>
        this.record(tx, companyId, head, piece, {
          from: range.from ?? null,
          to: range.to ?? null,
          incremental: false,
        }),
      );
      return { companyId, exported, range: piece, eventSeq };
    });
  }

  /** The events of one company newer than its last export to this target. */
  exportIncremental(companyId: string): Promise<CompanyExport> {
    return this.tenancy.run(exportContext(companyId), async (em) => {
      const nothing: CompanyExport = { companyId, exported: 0, range: null, eventSeq: null };
      const cursor = await this.cursor(em);
      const head = await this.queries.head(em);
      const after = cursor?.exportedSeq ?? 0;
      if (head.seq <= after || head.seq === cursor?.eventSeq) return nothing;
      const piece: SeqRange = { first: after + 1, last: head.seq };
      const { exported } = await exportCompanyTrail(this.queries, em, piece, this.target);
      const eventSeq = await em.transactional(async (tx) => {
        // One watermark move (and one event) per piece, however many processes export at once.
        await lockCompany(tx, 'audit-export');
        const current = await this.cursor(tx);
        if (current && current.exportedSeq >= piece.last) return null;
        const seq = await this.record(tx, companyId, head, piece, {
          from: null,
          to: null,
          incremental: true,
        });
        if (current) {
          current.exportedSeq = piece.last;
          current.eventSeq = seq;
        } else {
          tx.persist(new AuditExportCursor(this.target.description, piece.last, seq));
        }
        await tx.flush();
        return seq;
      });
      return eventSeq === null ? nothing : { companyId, exported, range: piece, eventSeq };
    });
  }

  /**
   * The scheduled run: every company (or those of `only`), one after the other; a company that fails is logged
   * by `onError` and retried by the next run, the others go on.
   */
  async runIncremental(
    options: { only?: string[]; onError?: (companyId: string, error: unknown) => void } = {},
  ): Promise<{ companies: number; exported: number; failed: number }> {
    const ids = options.only ?? (await this.companyIds());
    const report = { companies: 0, exported: 0, failed: 0 };
    for (const id of ids) {
      try {
        const result = await this.exportIncremental(id);
        report.companies += 1;
        report.exported += result.exported;
      } catch (e) {
        report.failed += 1;
        options.onError?.(id, e);
      }
    }
    return report;
  }

  private cursor(em: EntityManager): Promise<AuditExportCursor | null> {
    return em.findOne(AuditExportCursor, { target: this.target.description }, { refresh: true });
  }

  private async record(
    tx: EntityManager,
    companyId: string,
    head: ChainHead,
    piece: SeqRange,
    how: { from: Date | null; to: Date | null; incremental: boolean },
  ): Promise<number> {
    const event = await this.audit.record(
      {
        action: 'audit.exported',
        target: { type: 'Company', id: companyId },
        metadata: {
          format: 'partitioned',
          from: how.from?.toISOString() ?? null,
          to: how.to?.toISOString() ?? null,
          firstSeq: piece.first,
          lastSeq: piece.last,
          headSeq: head.seq,
          headHash: head.hash,
          target: this.target.description,
          incremental: how.incremental,
        },
      },
      tx,
    );
    return event.seq;
  }
}

/**
 * Schedules the incremental export (AUDIT_EXPORT_INTERVAL_MINUTES, 0 = off) as a pg-boss cron job, so
 * it runs wherever the scheduler runs (WORKER_MODE=inline, `npm run worker`); several processes may run it at
 * once (see `exportIncremental`).
 */
@Injectable()
export class AuditExportService implements OnModuleInit {
  private readonly logger = new Logger('AuditExport');
  private job: AuditExporter | undefined;

  constructor(
    private readonly tenancy: TenancyService,
    private readonly queries: AuditQueryService,
    private readonly audit: AuditService,
    private readonly scheduler: Scheduler,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** The exporter to AUDIT_EXPORT_URL (parsed on first use: a bad URL fails the start when the job is on). */
  get exporter(): AuditExporter {
    this.job ??= new AuditExporter(
      this.tenancy,
      this.queries,
      this.audit,
      exportTargetFromUrl(this.config.audit.exportUrl),
    );
    return this.job;
  }

  onModuleInit(): void {
    const every = this.config.audit.exportIntervalMs;
    if (every === null) return;
    void this.exporter;
    // The scheduled job exports every company; a job carrying a company exports only that one.
    this.scheduler.register(AUDIT_EXPORT_TASK, every, (job) =>
      this.run(job.companyId ? [job.companyId] : undefined),
    );
  }

  /** One scheduled run over every company (or those of `only`). */
  async run(only?: string[]): Promise<{ companies: number; exported: number; failed: number }> {
    const report = await this.exporter.runIncremental({
      only,
      onError: (companyId, e) =>
        this.logger.error(
          `audit export of company ${companyId} failed: ${e instanceof Error ? e.message : String(e)}`,
        ),
    });
    if (report.exported > 0 || report.failed > 0) {
      this.logger.log(
        `audit export to ${this.exporter.target.description}: ${report.exported} event(s) of ${report.companies} company(ies), ${report.failed} failed`,
      );
    }
    return report;
  }
}
