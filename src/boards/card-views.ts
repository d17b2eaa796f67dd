import type { RunStatus } from '../runs/run.entity.js';
import type { BoardCardRow } from '../tenancy/board-cards.js';
import type { Card } from './card.entity.js';
import type { CardDto } from './dto/card.dto.js';
import { isoInstant } from '../database/timestamps.js';

/** The current status of cards' runs, by run id. */
export type RunStatuses = Map<string, RunStatus>;

/** A card as a plain row (no entity): what the listing's read function and a move's read give. */
export type CardRow = Omit<BoardCardRow, 'runStatus'>;

export function toCardDto(c: Card, runs: RunStatuses): CardDto {
  return toCardRowDto({ ...c, runStatus: c.runId ? (runs.get(c.runId) ?? null) : null });
}

export function toCardRowDto(c: BoardCardRow): CardDto {
  return {
    id: c.id,
    boardId: c.boardId,
    columnId: c.columnId,
    rank: c.rank,
    title: c.title,
    description: c.description,
    labels: c.labels,
    dueAt: c.dueAt ? isoInstant(c.dueAt) : null,
    assigneeId: c.assigneeId,
    run: c.runId && c.runStatus ? { id: c.runId, status: c.runStatus as RunStatus } : null,
    version: c.version,
    createdBy: c.createdBy,
    updatedBy: c.updatedBy,
    createdAt: isoInstant(c.createdAt),
    updatedAt: isoInstant(c.updatedAt),
  };
}
