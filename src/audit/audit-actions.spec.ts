import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// The catalogue includes every registered feature's actions: register them as the app does.
import '../features.js';
import { AUDIT_ACTION_PATTERN, auditCatalogue } from './audit-actions.js';

describe('audit actions', () => {
  it('are all documented in the README actions table, with their current version', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const missing = Object.entries(auditCatalogue())
      .filter(
        ([action, { version }]) =>
          !new RegExp(`^\\| \`${action.replace('.', '\\.')}\` +\\| ${version} +\\|`, 'm').test(readme),
      )
      .map(([action]) => action);
    expect(missing).toEqual([]);
  });

  it('all match the name pattern the OpenAPI document declares for `action`', () => {
    const pattern = new RegExp(AUDIT_ACTION_PATTERN);
    expect(Object.keys(auditCatalogue()).filter((action) => !pattern.test(action))).toEqual([]);
  });
});
