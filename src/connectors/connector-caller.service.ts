import { Inject, Injectable } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import type { AppConfig } from '../config/config.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { JsonValue } from '../templates/definition.js';
import { ToolCallError, type ConnectorInvoker, type ToolCall, type ToolResult } from './connector-invoker.js';
import { isToolId, parseAuthScheme } from './connector-rules.js';
import { Connector } from './connector.entity.js';
import { KeyringService } from '../crypto/keyring.service.js';
import { OutboundHttp } from './outbound-http.js';

const REDACTED = '[redacted]';
/** Shorter secrets are not scrubbed from outputs: replacing a few common characters would mangle them. */
const MIN_REDACTED_LENGTH = 8;

/** Retrying can help: request timeout, too early, rate limited, and server errors. */
function retryableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

/** Replaces every occurrence of a secret in the strings of a JSON value (an endpoint that echoes headers). */
function redact(value: JsonValue, needles: string[]): JsonValue {
  if (needles.length === 0) return value;
  if (typeof value === 'string') {
    return needles.reduce((text, needle) => text.replaceAll(needle, REDACTED), value);
  }
  if (Array.isArray(value)) return value.map((v) => redact(v, needles));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v, needles)]));
  }
  return value;
}

/**
 * Calls connector endpoints: the implementation of the runs ↔ connectors contract (`ConnectorInvoker`), and the
 * engine behind `POST /v1/connectors/{id}/test`. Everything happens in the current tenant context: the connector
 * is looked up in the caller's company only, its secret decrypted just for the call, and the request sent through
 * `OutboundHttp` (address policy, pinned address, no redirects, deadline, size cap).
 *
 * Failures of the call are `ToolCallError`s. A secret that does not decrypt (wrong master key) is a server fault
 * and surfaces as `SecretUnavailableError`, not as a tool error.
 */
@Injectable()
export class ConnectorCaller implements ConnectorInvoker {
  constructor(
    private readonly em: EntityManager,
    private readonly keyring: KeyringService,
    private readonly outbound: OutboundHttp,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async invoke(call: ToolCall): Promise<ToolResult> {
    const connector = isToolId(call.toolId)
      ? await this.em.findOne(Connector, { toolId: call.toolId })
      : null;
    if (!connector) {
      throw new ToolCallError(`No connector is bound to ${String(call.toolId)}`, 'not_bound', false);
    }
    return this.call(connector, call.input, call.idempotencyKey, call.timeoutMs, call.signal);
  }

  /** One POST of `input` to the connector's endpoint with its authentication; the parsed JSON answer. */
  async call(
    connector: Connector,
    input: JsonValue,
    idempotencyKey: string,
    timeoutMs?: number,
    signal?: AbortSignal,
  ): Promise<ToolResult> {
    const limit = this.config.connectors.timeoutMs;
    const timeout = Math.max(1, Math.min(timeoutMs ?? limit, limit));
    const secret = await this.keyring.openSecret(this.em, connector);
    const headers: Record<string, string> = { 'idempotency-key': idempotencyKey };
    const needles: string[] = [];
    const scheme = parseAuthScheme(connector.authScheme);
    if ('error' in scheme) {
      throw new ToolCallError(`The connector's auth scheme is invalid: ${scheme.error}`, 'refused', false);
    }
    if (scheme.kind !== 'none') {
      if (secret === null) {
        throw new ToolCallError(
          `The connector uses ${scheme.kind} authentication but has no secret`,
          'refused',
          false,
        );
      }
      needles.push(secret);
      if (scheme.kind === 'bearer') headers.authorization = `Bearer ${secret}`;
      else if (scheme.kind === 'header') headers[scheme.name] = secret;
      else {
        const encoded = Buffer.from(secret, 'utf8').toString('base64');
        headers.authorization = `Basic ${encoded}`;
        needles.push(encoded, secret.slice(secret.indexOf(':') + 1));
      }
    }

    const response = await this.outbound.post({
      url: connector.endpointUrl,
      headers,
      body: JSON.stringify(input ?? null),
      timeoutMs: timeout,
      ...(signal ? { signal } : {}),
    });
    const { status, durationMs } = response;
    if (status >= 300 && status < 400) {
      throw new ToolCallError(
        `The endpoint answered ${status} (a redirect); redirects are not followed, bind the final URL`,
        'http_status',
        false,
        status,
      );
    }
    if (status < 200 || status >= 300) {
      throw new ToolCallError(
        `The endpoint answered ${status}`,
        'http_status',
        retryableStatus(status),
        status,
      );
    }
    const text = response.body.toString('utf8');
    let output: JsonValue = null;
    if (text.trim() !== '') {
      try {
        output = JSON.parse(text) as JsonValue;
      } catch {
        throw new ToolCallError(
          'The endpoint answered with a body that is not JSON',
          'bad_response',
          false,
          status,
        );
      }
    }
    return {
      status,
      output: redact(
        output,
        needles.filter((n) => n.length >= MIN_REDACTED_LENGTH),
      ),
      durationMs,
    };
  }
}
