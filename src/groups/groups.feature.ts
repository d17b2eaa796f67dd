import { defineFeature } from '../feature/feature.js';
import { GroupMember } from './group-member.entity.js';
import { Group } from './group.entity.js';
import { GroupsModule } from './groups.module.js';

export const GROUP_AUDIT_ACTIONS = {
  'group.created': { version: 1, description: 'A group was created; metadata.key, metadata.permissions' },
  'group.updated': {
    version: 1,
    description:
      'A group changed; metadata.fields, metadata.key, metadata.added, metadata.removed (permissions)',
  },
  'group.deleted': {
    version: 1,
    description:
      'A group was deleted with its memberships; metadata.key, metadata.permissions, metadata.members',
  },
  'group.member_added': { version: 1, description: 'A member joined a group; metadata.key, metadata.userId' },
  'group.member_removed': { version: 1, description: 'A member left a group; metadata.key, metadata.userId' },
} as const;

declare module '../authz/abilities.js' {
  interface FeatureSubjects {
    Group: true;
  }
}

declare module '../audit/audit-actions.js' {
  interface FeatureAuditActions extends Record<keyof typeof GROUP_AUDIT_ACTIONS, true> {}
}

/** Groups: members read them; admins manage them and their members (never beyond what they hold themselves). */
export const groupsFeature = defineFeature({
  name: 'groups',
  module: GroupsModule,
  entities: [Group, GroupMember],
  subjects: ['Group'],
  permissions: [
    {
      name: 'groups:read',
      description: 'Read groups and their members',
      role: 'member',
      rules: [{ actions: ['read'], subject: 'Group' }],
    },
    {
      name: 'groups:write',
      description: 'Create, edit and delete groups and their members (only with permissions you hold)',
      role: 'admin',
      rules: [{ actions: ['create', 'update', 'delete'], subject: 'Group' }],
      // A switch-in leaves nobody behind it: no group grants that outlast the token.
      operator: false,
    },
  ],
  auditActions: GROUP_AUDIT_ACTIONS,
});
