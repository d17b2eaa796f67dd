import type { EntityClass } from '@mikro-orm/core';
import type { Type } from '@nestjs/common';
import type { PermissionSpec } from '../authz/permissions.js';

/** One audit action a feature writes, with the version of its `metadata` shape. */
export interface AuditActionSpec {
  version: number;
  description: string;
}

/**
 * What a feature declares next to its code, and everything central code learns about it: its entities (the ORM,
 * the CLI and the migrations), its subjects and permissions (the catalogue and the ability factory), its audit actions (the
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
  auditActions?: Readonly<Record<string, AuditActionSpec>>;
}

/** Declares a feature (typed identity; the value is what `src/features.ts` lists). */
export function defineFeature<const M extends FeatureManifest>(manifest: M): M {
  return manifest;
}
