import { describe, expect, it } from 'vitest';
// The ability factory reads every registered feature's permissions: register them as the app does.
import '../features.js';
import { abilityFor, defineAbility } from '../authz/abilities.js';
import type { OperatorMode, TenantContext } from '../tenancy/request-store.js';
import { operatorContext } from './operator-access.service.js';

const COMPANY = '01900000-0000-7000-8000-000000000001';
const OPERATOR = '01900000-0000-7000-8000-000000000002';

const operator = (mode?: OperatorMode): TenantContext => {
  const ctx = operatorContext(COMPANY, OPERATOR, mode ?? 'read');
  return mode ? ctx : { ...ctx, operatorMode: undefined };
};

describe('switch-ins are read-only unless granted write (the block at the end of defineAbility)', () => {
  it('a read (or unspecified) switch-in reads everything an admin reads and changes nothing', () => {
    for (const ability of [defineAbility(operator('read')), defineAbility(operator())]) {
      for (const subject of [
        'Company',
        'Member',
        'Connector',
        'Run',
        'AuditEvent',
        'ApiKey',
        'Board',
      ] as const) {
        expect(ability.can('read', subject), subject).toBe(true);
      }
      expect(ability.can('use', 'Mcp')).toBe(true);
      expect(ability.can('update', 'Company')).toBe(false);
      expect(ability.can('create', 'Connector')).toBe(false);
      expect(ability.can('delete', 'ApiKey')).toBe(false);
      expect(ability.can('verdict', 'Run')).toBe(false);
      expect(ability.can('create', 'Card')).toBe(false);
      expect(ability.can('delete', 'Session')).toBe(false);
    }
  });

  it('a write switch-in has the operator admin rights, still without secrets, ownership or deletion', () => {
    const ability = defineAbility(operator('write'));
    expect(ability.can('update', 'Company')).toBe(true);
    expect(ability.can('create', 'Connector')).toBe(true);
    expect(ability.can('create', 'Card')).toBe(true);
    expect(ability.can('create', 'ApiKey')).toBe(false);
    expect(ability.can('transfer', 'Ownership')).toBe(false);
    expect(ability.can('delete', 'Company')).toBe(false);
    // Access requests are the company's admins' to decide, never a switched-in operator's.
    expect(ability.can('read', 'OperatorAccessRequest')).toBe(false);
    expect(ability.can('approve', 'OperatorAccessRequest')).toBe(false);
  });

  it('caches read and write abilities apart', () => {
    expect(abilityFor(operator('read')).can('update', 'Company')).toBe(false);
    expect(abilityFor(operator('write')).can('update', 'Company')).toBe(true);
    expect(abilityFor(operator('read')).can('update', 'Company')).toBe(false);
  });

  it('leaves people alone: an admin user keeps every write', () => {
    const admin: TenantContext = {
      ...operator('read'),
      principalType: 'user',
      operatorId: undefined,
      operatorMode: undefined,
    };
    const ability = defineAbility(admin);
    expect(ability.can('update', 'Company')).toBe(true);
    expect(ability.can('approve', 'OperatorAccessRequest')).toBe(true);
  });
});
