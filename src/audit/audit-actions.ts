import type { AuditActionSpec } from '../feature/feature.js';
import { features } from '../feature/registry.js';

/**
 * Every audit action the core writes, with the version of its `metadata` shape. Bump the version when a
 * metadata shape changes; readers and the offline verifier treat metadata as opaque JSON, so old events
 * stay verifiable. The README lists these; keep the descriptions short and exact.
 */
export const AUDIT_ACTIONS = {
  'company.created': { version: 1, description: 'A company was registered, with its first owner' },
  'company.updated': {
    version: 1,
    description: 'Name or settings changed; metadata lists the changed fields',
  },
  'company.deletion_scheduled': {
    version: 1,
    description:
      'The owner scheduled deletion; metadata.purgeAfter, metadata.listingsWithdrawn (its community listings, out of the marketplace until restored)',
  },
  'company.deletion_cancelled': {
    version: 1,
    description:
      'The owner restored a company scheduled for deletion; metadata.listingsRestored (its community listings, offered again)',
  },
  'auth.login': { version: 1, description: 'A user signed in and a refresh family started' },
  'auth.logout': { version: 1, description: 'A refresh family was revoked by its user' },
  'auth.token_refreshed': { version: 1, description: 'A refresh token was rotated' },
  'auth.refresh_reuse_detected': {
    version: 1,
    description: 'A spent refresh token was presented again; its whole family was revoked',
  },
  'auth.company_switched': { version: 1, description: 'A user switched their session into this company' },
  'member.joined': {
    version: 1,
    description: 'A user became a member (registration or accepted invitation)',
  },
  'member.role_changed': { version: 1, description: 'A member role changed; metadata.from, metadata.to' },
  'member.removed': { version: 1, description: 'A member was removed; their refresh tokens were revoked' },
  'member.ownership_transferred': { version: 1, description: 'Ownership moved to another member' },
  'member.invited': { version: 1, description: 'An invitation was created; metadata.email, metadata.role' },
  'invitation.resent': { version: 1, description: 'An invitation token was rotated and sent again' },
  'invitation.revoked': { version: 1, description: 'An invitation was revoked' },
  'invitation.accepted': { version: 1, description: 'An invitation was accepted' },
  'platform.switched_in': {
    version: 1,
    description:
      'A platform operator switched into this company; metadata.reason, metadata.expiresAt, metadata.mode (read/write), metadata.requestId (approval) or metadata.breakGlass',
  },
  'api_key.created': {
    version: 1,
    description: 'An API key was created; metadata.name, role, expiresAt (rotatedFromId when by rotation)',
  },
  'api_key.revoked': { version: 1, description: 'An API key was revoked; metadata.reason' },
  'api_key.rotated': {
    version: 1,
    description: 'An API key was replaced; metadata.newKeyId, overlapHours, previousExpiresAt',
  },
  'api_key.use_denied': {
    version: 1,
    description:
      'A revoked, expired or orphaned API key was presented; metadata.reason, suppressedSinceLast (≤ 1/min/key)',
  },
  'application.created': {
    version: 1,
    description: 'An application was created; metadata.name, role, clientId',
  },
  'application.updated': { version: 1, description: 'An application was edited; metadata.fields (and role)' },
  'application.deleted': { version: 1, description: 'An application was deleted; metadata.name, clientId' },
  'application.secret_rotated': { version: 1, description: "An application's client secret was replaced" },
  'application.token_denied': {
    version: 1,
    description:
      'A token request refused for this application (wrong secret, or its creator no longer a member); ' +
      'metadata.reason, suppressedSinceLast (≤ 1/min)',
  },
  'draft.created': { version: 1, description: 'A draft was created; metadata.key' },
  'draft.updated': {
    version: 1,
    description: 'A draft working copy changed; metadata.fields (changed fields), metadata.version',
  },
  'draft.deleted': {
    version: 1,
    description: 'A draft was deleted; metadata.key, metadata.kept (its published versions were kept)',
  },
  'draft.published': {
    version: 1,
    description: 'A draft was published; metadata.version, metadata.versionId, metadata.republished',
  },
  'draft.unpublished': {
    version: 1,
    description: 'A draft was unpublished: no new runs start from it; metadata.version',
  },
  'marketplace.installed': {
    version: 1,
    description:
      'A marketplace listing was copied into a new draft; metadata.listingId, metadata.source (catalog or community), metadata.draftId, metadata.key; catalog: metadata.listingKey, metadata.listingVersion',
  },
  'connector.created': {
    version: 1,
    description: 'A connector was bound; metadata.toolId, endpoint (origin and path), authScheme, hasSecret',
  },
  'connector.updated': {
    version: 1,
    description:
      'A connector changed; metadata.changed lists the fields, metadata.secret is set/cleared (never the value)',
  },
  'connector.deleted': {
    version: 1,
    description: 'A connector and its secret were deleted; metadata.toolId',
  },
  'connector.tested': {
    version: 1,
    description: 'An admin test-called a connector; metadata.ok, metadata.status, metadata.reason',
  },
  'company.key_rewrapped': {
    version: 1,
    description: 'Master key rotation re-wrapped the company data key; metadata.fromKeyId, metadata.toKeyId',
  },
  'audit.exported': {
    version: 2,
    description:
      'The audit trail was exported: over the API (metadata.format ndjson, by the caller) or by the export job ' +
      '(partitioned, by the system; .target, .incremental); metadata.from, .to, .firstSeq, .lastSeq (null when ' +
      'empty), .headSeq, .headHash (the chain head when it started)',
  },
  'run.started': {
    version: 1,
    description:
      'A run was started (queued); metadata.source, templateId, templateKey, templateVersion, budget month count',
  },
  'run.running': {
    version: 1,
    description: 'A worker claimed a run within the company cap; metadata.stepId (next step)',
  },
  'run.parked': {
    version: 1,
    description: 'A run parked on an approval step; metadata.stepId, metadata.minRole',
  },
  'run.verdict_given': {
    version: 1,
    description: 'A verdict on a parked run; metadata.stepId, metadata.decision',
  },
  'run.resumed': { version: 1, description: 'An approved run was queued again; metadata.stepId' },
  'run.retried': {
    version: 1,
    description:
      'A run whose worker stopped (lease expired) was queued again; metadata.stepId, interruptedAttempt',
  },
  'run.released': {
    version: 1,
    description:
      'A worker handed a running run back to the queue: stopping, between steps; or, with metadata.reason ' +
      '`secret_unavailable`, before a call its connector secret could not be decrypted for (tried again later); ' +
      'metadata.stepId',
  },
  'run.cancel_requested': {
    version: 1,
    description: 'Cancellation of a running run was requested; the worker cancels it before its next step',
  },
  'run.succeeded': { version: 1, description: 'A run completed every step' },
  'run.failed': { version: 1, description: 'A run failed; metadata.stepId, metadata.reason' },
  'run.rejected': { version: 1, description: 'A run ended on a rejection; metadata.stepId' },
  'run.cancelled': { version: 1, description: 'A run was cancelled; metadata.stepId (where it stood)' },
  'authorization.denied': {
    version: 1,
    description:
      'A request on a single resource was denied (answered 404); metadata.permission, metadata.action, metadata.route',
  },
} as const satisfies Record<string, { version: number; description: string }>;

/**
 * Actions a feature adds, by declaration merging next to its manifest's `auditActions`:
 * `declare module '../audit/audit-actions.js' { interface FeatureAuditActions extends Record<keyof typeof BOARD_ACTIONS, true> {} }`.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface FeatureAuditActions {}

export type AuditAction = keyof typeof AUDIT_ACTIONS | Extract<keyof FeatureAuditActions, string>;

let catalogue: Readonly<Record<string, AuditActionSpec>> | undefined;

/** The core's actions and every registered feature's: what the audit service, the API and the README list. */
export function auditCatalogue(): Readonly<Record<string, AuditActionSpec>> {
  if (catalogue) return catalogue;
  const all: Record<string, AuditActionSpec> = { ...AUDIT_ACTIONS };
  for (const feature of features()) {
    for (const [action, spec] of Object.entries(feature.auditActions ?? {})) {
      if (Object.hasOwn(all, action))
        throw new Error(`audit action ${action} of ${feature.name} is declared twice`);
      all[action] = spec;
    }
  }
  return (catalogue = all);
}

/** The shape of every audit action name (`resource.verb`, lower case), as the OpenAPI document declares it. */
export const AUDIT_ACTION_PATTERN = '^[a-z][a-z_]*(\\.[a-z_]+)+$';

export function isAuditAction(value: string): value is AuditAction {
  return Object.hasOwn(auditCatalogue(), value);
}
