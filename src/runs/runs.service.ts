import { Inject, Injectable } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { AccountRunBudget } from '../accounts/account-run-budget.js';
import { Account } from '../accounts/account.entity.js';
import { Errors, type FieldError } from '../common/errors/app-error.js';
import { newId } from '../common/ids.js';
import {
  decodeCursor,
  keyset,
  keysetFind,
  toPage,
  type Page,
  type PageQueryDto,
} from '../common/pagination.js';
import type { AppConfig } from '../config/config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { limitsOf } from '../config/plans.js';
import { DlpService } from '../dlp/dlp.service.js';
import { IdempotencyService } from '../idempotency/idempotency.service.js';
import { compileInputSchema, type JsonObject } from '../templates/definition.js';
import { TEMPLATE_SOURCE, type RunnableTemplate, type TemplateSource } from '../templates/template-source.js';
import type { TenantContext } from '../tenancy/request-store.js';
import type { RunDto, RunEventDto, RunQueryDto, RunSummaryDto, StartRunDto } from './dto/runs.dto.js';
import { RunBudget } from './run-budget.js';
import { RunEvent } from './run-event.entity.js';
import { RunTransitions } from './run-transitions.js';
import { RunReads } from './run-reads.js';
import { toRunDto, toRunEventDto, toRunSummary } from './run-views.js';
import { RunWorker } from './run-worker.js';
import { Run } from './run.entity.js';
import { RunErrors } from './runs.errors.js';

const MAX_INPUT_ERRORS = 100;
const VALIDATOR_CACHE_SIZE = 200;

/** Ajv's errors as API field errors, each named by its path from `input`. */
export function inputFieldErrors(errors: ErrorObject[]): FieldError[] {
  return errors.slice(0, MAX_INPUT_ERRORS).map((e) => {
    const path = e.instancePath
      .split('/')
      .slice(1)
      .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
    const params = e.params as { missingProperty?: string; additionalProperty?: string };
    if ((e.keyword === 'required' || e.keyword === 'dependentRequired') && params.missingProperty) {
      return { field: ['input', ...path, params.missingProperty].join('.'), message: 'is required' };
    }
    if (e.keyword === 'additionalProperties' && params.additionalProperty) {
      return {
        field: ['input', ...path, params.additionalProperty].join('.'),
        message: 'is not a field of this template’s input',
      };
    }
    return { field: ['input', ...path].join('.'), message: e.message ?? 'is invalid' };
  });
}

/**
 * Starting runs and reading them. A start resolves the template version, validates the input against its
 * schema, counts the run against the monthly budget, and stores the run (with a snapshot of the definition),
 * its first timeline event, its audit event, the `Idempotency-Key` and its job, all in one transaction.
 */
@Injectable()
export class RunsService {
  /** Compiled input validators by template version (immutable: a catalog id + version, or a draft version). */
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(
    private readonly em: EntityManager,
    @Inject(TEMPLATE_SOURCE) private readonly templates: TemplateSource,
    private readonly idempotency: IdempotencyService,
    private readonly budget: RunBudget,
    private readonly accountBudget: AccountRunBudget,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly transitions: RunTransitions,
    private readonly worker: RunWorker,
    private readonly reads: RunReads,
    private readonly dlp: DlpService,
  ) {}

  async start(
    ctx: TenantContext,
    dto: StartRunDto,
    idempotencyKey: string | undefined,
  ): Promise<{ run: RunDto; replayed: boolean }> {
    const request = {
      templateId: dto.templateId ?? null,
      draftVersionId: dto.draftVersionId ?? null,
      input: dto.input ?? {},
    };
    // DLP `run_input`: a block refuses the start (422, its event committed on its own) before anything is
    // written; a redaction changes what is stored (the idempotency key still stands for the request as sent).
    const scanned = await this.dlp.guard('run_input', request.input, 'input');
    const result = await this.em.transactional(async (tx): Promise<{ replayOf: string } | { run: Run }> => {
      const runId = newId();
      // A retry of a request already answered replays it, whatever became of its template since.
      const replayOf = await this.idempotency.claimOrReplay(tx, {
        scope: 'POST /v1/runs',
        key: idempotencyKey,
        request,
        resourceType: 'Run',
        resourceId: runId,
      });
      if (replayOf !== undefined) return { replayOf };
      const template = await this.templates.forRun({
        ...(dto.templateId !== undefined ? { templateId: dto.templateId } : {}),
        ...(dto.draftVersionId !== undefined ? { draftVersionId: dto.draftVersionId } : {}),
      });
      this.validateInput(template, request.input);
      const run = new Run({
        source: template.source,
        templateRefId: template.id,
        templateKey: template.key,
        templateVersion: template.version,
        definition: template.definition,
        input: scanned.value,
        startedBy: ctx.principalId,
        startedByType: ctx.principalType,
        startedByUserId: ctx.principalType === 'system' ? null : ctx.actingUserId,
      });
      run.id = runId;
      const company = await this.transitions.company(tx, ctx.companyId);
      const used = await this.budget.consume(tx, company.monthlyRunBudget);
      // Then the account's budget, shared by its companies: whichever is smaller binds (each refusal names its
      // own). Lock order: the company's month row, the account's month row, the audit chain head.
      const account = await tx.findOneOrFail(Account, { id: company.accountId });
      await this.accountBudget.consume(
        tx,
        account.id,
        limitsOf(this.config.plans, account.plan).monthlyRunBudget,
      );
      tx.persist(run);
      this.transitions.event(tx, run, 'run.queued', null, {
        source: run.source,
        templateId: run.templateRefId,
        templateKey: run.templateKey,
        templateVersion: run.templateVersion,
      });
      await this.transitions.record(tx, 'run.started', run, {
        source: run.source,
        templateId: run.templateRefId,
        templateKey: run.templateKey,
        templateVersion: run.templateVersion,
        monthCount: used,
      });
      await this.dlp.record(tx, 'run_input', scanned, { type: 'Run', id: run.id });
      await this.transitions.enqueue(tx, run);
      return { run };
    });
    if ('replayOf' in result) return { run: await this.get(result.replayOf), replayed: true };
    // With the worker in this process, fetch now rather than at the next poll.
    this.worker.wake();
    return { run: toRunDto(result.run, [], []), replayed: false };
  }

  async list(query: RunQueryDto): Promise<Page<RunSummaryDto>> {
    const { limit, after } = keyset(query);
    const rows = await this.reads.page({
      before: after,
      limit: limit + 1,
      ...(query.status ? { status: query.status } : {}),
      ...(query.templateId ? { templateId: query.templateId } : {}),
      ...(query.startedBy ? { startedBy: query.startedBy } : {}),
    });
    return toPage(rows, limit, toRunSummary);
  }

  async get(id: string): Promise<RunDto> {
    const found = await this.reads.one(id);
    if (!found) throw Errors.notFound('Run');
    return toRunDto(found.run, found.steps, found.verdicts);
  }

  /** The timeline, oldest first (a timeline reads forward), keyset-paginated on the event id. */
  async events(id: string, query: PageQueryDto): Promise<Page<RunEventDto>> {
    const run = await this.load(id);
    const { limit } = keysetFind(query);
    const after = decodeCursor(query.cursor);
    const rows = await this.em.find(
      RunEvent,
      { runId: run.id, ...(after ? { id: { $gt: after } } : {}) },
      { orderBy: { id: 'asc' }, limit: limit + 1 },
    );
    return toPage(rows, limit, toRunEventDto);
  }

  private async load(id: string): Promise<Run> {
    const run = await this.em.findOne(Run, { id });
    if (!run) throw Errors.notFound('Run');
    return run;
  }

  private validateInput(template: RunnableTemplate, input: JsonObject): void {
    const key = `${template.source}:${template.id}:${template.version}`;
    let validate = this.validators.get(key);
    if (!validate) {
      try {
        validate = compileInputSchema(template.definition.inputSchema);
      } catch (error: unknown) {
        // Only a version saved before today's rules (an unsafe `pattern`, say) can fail here: it cannot run.
        throw RunErrors.InputSchemaUnusable(error instanceof Error ? error.message : String(error));
      }
      if (this.validators.size >= VALIDATOR_CACHE_SIZE) {
        this.validators.delete(this.validators.keys().next().value as string);
      }
      this.validators.set(key, validate);
    }
    if (!validate(input)) {
      const errors = inputFieldErrors(validate.errors ?? []);
      throw RunErrors.InputMismatch(errors);
    }
  }
}
