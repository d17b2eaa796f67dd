import type { DraftVersion } from './draft-version.entity.js';
import type { Draft } from './draft.entity.js';
import type { DraftDto, DraftSummaryDto, DraftVersionDto, DraftVersionSummaryDto } from './dto/draft.dto.js';

/** A draft as listed: everything but its input schema and steps. */
export function toDraftSummary(d: Omit<Draft, 'inputSchema' | 'steps'>): DraftSummaryDto {
  return {
    id: d.id,
    key: d.key,
    name: d.name,
    description: d.description,
    category: d.category,
    status: d.status,
    version: d.version,
    hasUnpublishedChanges: d.hasUnpublishedChanges,
    publishedVersion: d.publishedVersion,
    publishedVersionId: d.publishedVersionId,
    createdBy: d.createdBy,
    updatedBy: d.updatedBy,
    createdAt: d.createdAt.toISOString(),
    updatedAt: d.updatedAt.toISOString(),
  };
}

export function toDraftDto(d: Draft): DraftDto {
  return { ...toDraftSummary(d), inputSchema: d.inputSchema, steps: d.steps };
}

/** A published version as listed: everything but its definition. */
export function toDraftVersionSummary(v: Omit<DraftVersion, 'definition'>): DraftVersionSummaryDto {
  return {
    id: v.id,
    draftId: v.draftId,
    version: v.version,
    key: v.key,
    publishedBy: v.publishedBy,
    publishedAt: v.publishedAt.toISOString(),
  };
}

export function toDraftVersionDto(v: DraftVersion): DraftVersionDto {
  const d = v.definition;
  return {
    ...toDraftVersionSummary(v),
    definition: { ...d, steps: d.steps },
  };
}
