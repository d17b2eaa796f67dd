import { Injectable } from '@nestjs/common';
import { EntityManager, UniqueConstraintViolationException } from '@mikro-orm/postgresql';
import { AuditService } from '../audit/audit.service.js';
import { Errors } from '../common/errors/app-error.js';
import { newId } from '../common/ids.js';
import { keysetFind, toPage, type Page } from '../common/pagination.js';
import type { JsonValue } from '../templates/definition.js';
import { WriteSlots } from '../tenancy/write-slots.js';
import { AddressPolicy, EndpointRefusedError } from './address-policy.js';
import { ConnectorCaller } from './connector-caller.service.js';
import { ToolCallError } from './connector-invoker.js';
import {
  endpointForAudit,
  endpointOrigin,
  formatAuthScheme,
  parseAuthScheme,
  secretProblem,
  type AuthScheme,
} from './connector-rules.js';
import { Connector } from './connector.entity.js';
import type {
  ConnectorDto,
  ConnectorTestResultDto,
  CreateConnectorDto,
  ListConnectorsQueryDto,
  UpdateConnectorDto,
} from './dto/connectors.dto.js';
import { KeyringService } from '../crypto/keyring.service.js';
import { ConnectorErrors } from './connectors.errors.js';

/** The response shape: everything but the secret, which only shows as `hasSecret` and `secretSetAt`. */
export function toConnectorDto(c: Connector): ConnectorDto {
  return {
    id: c.id,
    toolId: c.toolId,
    endpointUrl: c.endpointUrl,
    authScheme: c.authScheme,
    hasSecret: c.secretCiphertext !== null,
    secretSetAt: c.secretSetAt?.toISOString() ?? null,
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
  };
}

const DEFAULT_TEST_INPUT: JsonValue = { ping: true };

/**
 * Connectors of the caller's company: CRUD (admins write, members read) and the test call. Secrets are
 * write-only: they are sealed by `KeyringService` on the way in and leave the process only in an outbound call;
 * responses, errors, audit events and logs carry `hasSecret` at most.
 */
@Injectable()
export class ConnectorsService {
  constructor(
    private readonly em: EntityManager,
    private readonly audit: AuditService,
    private readonly keyring: KeyringService,
    private readonly policy: AddressPolicy,
    private readonly caller: ConnectorCaller,
    private readonly writeSlots: WriteSlots,
  ) {}

  async list(query: ListConnectorsQueryDto): Promise<Page<ConnectorDto>> {
    const page = keysetFind(query);
    const rows = await this.em.find(
      Connector,
      { ...page.where, ...(query.toolId ? { toolId: query.toolId } : {}) },
      page.options,
    );
    return toPage(rows, page.limit, toConnectorDto);
  }

  async get(id: string): Promise<ConnectorDto> {
    return toConnectorDto(await this.find(id));
  }

  async create(dto: CreateConnectorDto): Promise<ConnectorDto> {
    const scheme = this.scheme(dto.authScheme);
    this.checkEndpoint(dto.endpointUrl);
    const secret = dto.secret ?? null;
    if (secret !== null) this.checkSecret(scheme, secret);
    return this.em.transactional(async (tx) => {
      const connector = new Connector(dto.toolId, dto.endpointUrl, formatAuthScheme(scheme));
      if (secret !== null) await this.setSecret(tx, connector, secret);
      // A direct insert: the new row needs no change tracking (the response is built from the entity here).
      await this.writeBinding(connector.toolId, () => tx.insert(connector));
      await this.audit.record(
        {
          action: 'connector.created',
          target: { type: 'Connector', id: connector.id },
          metadata: {
            toolId: connector.toolId,
            endpoint: endpointForAudit(connector.endpointUrl),
            authScheme: connector.authScheme,
            hasSecret: secret !== null,
          },
        },
        tx,
      );
      return toConnectorDto(connector);
    });
  }

  async update(id: string, dto: UpdateConnectorDto): Promise<ConnectorDto> {
    return this.em.transactional(async (tx) => {
      const connector = await this.find(id, tx);
      const changed: string[] = [];
      if (dto.toolId !== undefined && dto.toolId !== connector.toolId) {
        connector.toolId = dto.toolId;
        changed.push('toolId');
      }
      if (dto.endpointUrl !== undefined && dto.endpointUrl !== connector.endpointUrl) {
        this.checkEndpoint(dto.endpointUrl);
        // A secret is bound to the origin it was given for: moving it elsewhere (an admin's own server, say)
        // must not carry it along silently, or the write-only secret could be read off the wire.
        if (
          connector.secretCiphertext !== null &&
          dto.secret === undefined &&
          endpointOrigin(dto.endpointUrl) !== endpointOrigin(connector.endpointUrl)
        ) {
          throw ConnectorErrors.SecretNeededForNewOrigin();
        }
        connector.endpointUrl = dto.endpointUrl;
        changed.push('endpointUrl');
      }
      let scheme = this.scheme(connector.authScheme);
      if (dto.authScheme !== undefined) {
        scheme = this.scheme(dto.authScheme);
        const formatted = formatAuthScheme(scheme);
        if (formatted !== connector.authScheme) {
          connector.authScheme = formatted;
          changed.push('authScheme');
        }
      }
      let secretChange: 'set' | 'cleared' | undefined;
      if (dto.secret === null && connector.secretCiphertext !== null) {
        connector.secretCiphertext = null;
        connector.secretSetAt = null;
        secretChange = 'cleared';
      } else if (typeof dto.secret === 'string') {
        this.checkSecret(scheme, dto.secret);
        await this.setSecret(tx, connector, dto.secret);
        secretChange = 'set';
      } else if (changed.includes('authScheme') && connector.secretCiphertext !== null) {
        if (scheme.kind === 'none') {
          throw ConnectorErrors.SecretWithSchemeNone();
        }
        // The kept secret must suit the new scheme (basic needs user:password, headers need ASCII).
        const stored = await this.keyring.openSecret(tx, connector);
        if (stored !== null && secretProblem(scheme, stored)) {
          throw ConnectorErrors.StoredSecretUnsuitable(scheme.kind);
        }
      }
      if (secretChange) changed.push('secret');
      if (changed.length === 0) return toConnectorDto(connector);
      await this.writeBinding(connector.toolId, () => tx.flush());
      await this.audit.record(
        {
          action: 'connector.updated',
          target: { type: 'Connector', id: connector.id },
          metadata: {
            toolId: connector.toolId,
            changed,
            ...(changed.includes('endpointUrl') ? { endpoint: endpointForAudit(connector.endpointUrl) } : {}),
            ...(changed.includes('authScheme') ? { authScheme: connector.authScheme } : {}),
            ...(secretChange ? { secret: secretChange } : {}),
          },
        },
        tx,
      );
      return toConnectorDto(connector);
    });
  }

  async remove(id: string): Promise<void> {
    await this.em.transactional(async (tx) => {
      const connector = await this.find(id, tx);
      tx.remove(connector);
      await tx.flush();
      await this.audit.record(
        {
          action: 'connector.deleted',
          target: { type: 'Connector', id },
          metadata: { toolId: connector.toolId },
        },
        tx,
      );
    });
  }

  /**
   * Calls the endpoint once, through the same path runs use, and reports the outcome as data: 200 whether the
   * endpoint answered, failed or was refused by the address policy (`error.reason`). The response body is not
   * returned (an endpoint that echoes headers would otherwise reveal the secret). The route holds no write slot
   * (`@CallsOut()`) and no transaction while it calls out; only its audit write takes a slot, after the call.
   */
  async test(id: string, input: JsonValue | undefined): Promise<ConnectorTestResultDto> {
    const connector = await this.find(id);
    const started = performance.now();
    let result: ConnectorTestResultDto;
    try {
      const { status, durationMs } = await this.caller.call(
        connector,
        input === undefined ? DEFAULT_TEST_INPUT : input,
        `connector-test-${newId()}`,
      );
      result = { ok: true, status, durationMs };
    } catch (e) {
      if (!(e instanceof ToolCallError)) throw e;
      result = {
        ok: false,
        status: e.status ?? null,
        durationMs: Math.round(performance.now() - started),
        error: { reason: e.reason, message: e.message, retryable: e.retryable },
      };
    }
    await this.writeSlots.run(() =>
      this.audit.recordAlone({
        action: 'connector.tested',
        target: { type: 'Connector', id: connector.id },
        metadata: {
          toolId: connector.toolId,
          ok: result.ok,
          status: result.status,
          ...(result.error ? { reason: result.error.reason } : {}),
        },
      }),
    );
    return result;
  }

  /** A connector of the caller's company, or 404 (missing and foreign ids alike). */
  private async find(id: string, em: EntityManager = this.em): Promise<Connector> {
    const connector = await em.findOne(Connector, { id });
    if (!connector) throw Errors.notFound('Connector');
    return connector;
  }

  /**
   * Writes a connector (`write`); a `toolId` the company has bound already is refused by the unique constraint
   * `connectors_company_tool_unique` (race-free, and no lookup first), answered as a 409 that names it.
   */
  private async writeBinding(toolId: string, write: () => Promise<unknown>): Promise<void> {
    try {
      await write();
    } catch (e) {
      if (e instanceof UniqueConstraintViolationException) {
        throw ConnectorErrors.DuplicateToolId(toolId);
      }
      throw e;
    }
  }

  private scheme(value: string): AuthScheme {
    const scheme = parseAuthScheme(value);
    if ('error' in scheme) throw ConnectorErrors.InvalidAuthScheme(scheme.error);
    return scheme;
  }

  private checkSecret(scheme: AuthScheme, secret: string): void {
    const problem = secretProblem(scheme, secret);
    if (problem) throw ConnectorErrors.InvalidSecret(problem);
  }

  /** The static address policy at write time; the full check (with DNS) runs before every call. */
  private checkEndpoint(url: string): void {
    try {
      this.policy.checkUrl(url);
    } catch (e) {
      if (e instanceof EndpointRefusedError) throw ConnectorErrors.EndpointRefused(e.message);
      throw e;
    }
  }

  private async setSecret(tx: EntityManager, connector: Connector, secret: string): Promise<void> {
    connector.secretCiphertext = await this.keyring.sealSecret(tx, connector, secret);
    connector.secretSetAt = new Date();
  }
}
