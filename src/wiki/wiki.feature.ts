import { defineFeature } from '../feature/feature.js';
import { WikiPageRevision } from './wiki-page-revision.entity.js';
import { WikiPage } from './wiki-page.entity.js';
import { WikiModule } from './wiki.module.js';

export const WIKI_AUDIT_ACTIONS = {
  'wiki_page.created': {
    version: 1,
    description: 'A wiki page was created; metadata.slug, parentId, version',
  },
  'wiki_page.updated': {
    version: 1,
    description: 'Title or body of a wiki page changed; metadata.fields, version (a new revision)',
  },
  'wiki_page.moved': {
    version: 1,
    description: 'A wiki page got another parent; metadata.from, to (null: top level), version',
  },
  'wiki_page.deleted': {
    version: 1,
    description:
      'A wiki page and its revisions were deleted; metadata.slug, parentId (with: the page whose cascade took it)',
  },
} as const;

declare module '../authz/abilities.js' {
  interface FeatureSubjects {
    WikiPage: true;
  }
}

declare module '../audit/audit-actions.js' {
  interface FeatureAuditActions extends Record<keyof typeof WIKI_AUDIT_ACTIONS, true> {}
}

export const wikiFeature = defineFeature({
  name: 'wiki',
  module: WikiModule,
  entities: [WikiPage, WikiPageRevision],
  subjects: ['WikiPage'],
  permissions: [
    {
      name: 'wiki:read',
      description: 'Read and search wiki pages and their revisions',
      role: 'member',
      rules: [{ actions: ['read'], subject: 'WikiPage' }],
    },
    {
      name: 'wiki:write',
      description: 'Create and edit wiki pages, and delete the pages you created',
      role: 'member',
      rules: [
        { actions: ['create', 'update'], subject: 'WikiPage' },
        { actions: ['delete'], subject: 'WikiPage', own: 'createdBy' },
      ],
    },
    {
      name: 'wiki:delete',
      description: "Delete anyone's wiki pages",
      role: 'manager',
      rules: [{ actions: ['delete'], subject: 'WikiPage' }],
    },
  ],
  auditActions: WIKI_AUDIT_ACTIONS,
});
