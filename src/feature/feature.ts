import type { EntityClass } from '@mikro-orm/core';
import type { Type } from '@nestjs/common';
import type { Action, SubjectName } from '../authz/abilities.js';
import type { PermissionSpec } from '../authz/permissions.js';
import type { Role } from '../authz/roles.js';

/** One audit action a feature writes, with the version of its `metadata` shape. */
export interface AuditActionSpec {
  version: number;
  description: string;
}

/**
 * One rule a feature adds to the ability factory: from `role` up, `actions` on `subject`. `own` limits the rule
 * to rows whose field of that name is the acting person (`createdBy`, `startedBy`); `operator: false` keeps a
 * switched-in platform operator out of it.
 */
export interface AbilityGrant {
  role: Role;
  actions: readonly Action[];
  subject: SubjectName;
  own?: 'createdBy' | 'startedBy' | 'userId';
  operator?: false;
}

/**
 * What a feature declares next to its code, and everything central code learns about it: its entities (the ORM,
 * the CLI and the migrations), its subjects and ability rules (the ability factory), its audit actions (the
 * audit catalogue, the README check). Its isolation fixtures live beside it in `<feature>.isolation.ts`, which the
 * cross-tenant and audit-coverage suites discover.
 */
export interface FeatureManifest {
  name: string;
  module: Type<unknown>;
  entities?: readonly EntityClass<unknown>[];
  subjects?: readonly string[];
  /** The feature's permissions (`<resource>:<action>`), each with its rules and least built-in role. */
  permissions?: readonly PermissionSpec[];
  /** @deprecated declare `permissions`; each grant becomes a permission named after the feature. */
  grants?: readonly AbilityGrant[];
  auditActions?: Readonly<Record<string, AuditActionSpec>>;
}

/** Declares a feature (typed identity; the value is what `src/features.ts` lists). */
export function defineFeature<const M extends FeatureManifest>(manifest: M): M {
  return manifest;
}
