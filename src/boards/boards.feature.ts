import { defineFeature } from '../feature/feature.js';
import { BoardColumn } from './board-column.entity.js';
import { Board } from './board.entity.js';
import { BoardsModule } from './boards.module.js';
import { Card } from './card.entity.js';

export const BOARD_AUDIT_ACTIONS = {
  'board.created': { version: 1, description: 'A board was created; metadata.columns (id, name of each)' },
  'board.updated': { version: 1, description: 'A board was renamed or described; metadata.fields' },
  'board.deleted': {
    version: 1,
    description: 'A board was deleted with its columns and cards; metadata.name, metadata.cards (count)',
  },
  'column.created': {
    version: 1,
    description: 'A column was added to a board; metadata.boardId, metadata.name, metadata.wipLimit',
  },
  'column.updated': {
    version: 1,
    description: 'A column was renamed, moved or given a WIP limit; metadata.boardId, metadata.fields',
  },
  'column.deleted': {
    version: 1,
    description: 'An empty column was deleted; metadata.boardId, metadata.name',
  },
  'card.created': { version: 1, description: 'A card was created; metadata.boardId, metadata.columnId' },
  'card.updated': {
    version: 1,
    description:
      'A card changed; metadata.fields, metadata.version; metadata.reason `member_removed` (with userId) when its assignee left',
  },
  'card.moved': {
    version: 1,
    description: 'A card moved; metadata.fromColumnId, metadata.toColumnId, metadata.version',
  },
  'card.deleted': {
    version: 1,
    description: 'A card was deleted; metadata.boardId, metadata.columnId, metadata.title',
  },
} as const;

declare module '../authz/abilities.js' {
  interface FeatureSubjects {
    Board: true;
    Card: true;
  }
}

declare module '../audit/audit-actions.js' {
  interface FeatureAuditActions extends Record<keyof typeof BOARD_AUDIT_ACTIONS, true> {}
}

/**
 * Kanban boards: members read boards and write cards; deleting a card takes its creator or a manager;
 * managers manage boards and columns.
 */
export const boardsFeature = defineFeature({
  name: 'boards',
  module: BoardsModule,
  entities: [Board, BoardColumn, Card],
  subjects: ['Board', 'Card'],
  permissions: [
    {
      name: 'boards:read',
      description: 'Read boards, their columns and cards',
      role: 'member',
      rules: [
        { actions: ['read'], subject: 'Board' },
        { actions: ['read'], subject: 'Card' },
      ],
    },
    {
      name: 'cards:write',
      description: 'Create, edit and move cards, and delete the cards you created',
      role: 'member',
      rules: [
        { actions: ['create', 'update'], subject: 'Card' },
        { actions: ['delete'], subject: 'Card', own: 'createdBy' },
      ],
    },
    {
      name: 'boards:write',
      description: "Manage boards and columns, and delete anyone's cards",
      role: 'manager',
      rules: [
        { actions: ['create', 'update', 'delete'], subject: 'Board' },
        { actions: ['delete'], subject: 'Card' },
      ],
    },
  ],
  auditActions: BOARD_AUDIT_ACTIONS,
});
