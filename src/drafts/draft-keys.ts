import { Injectable } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import { escapeLike } from '../common/like.js';
import { MAX_KEY_LENGTH } from '../templates/definition.js';
import { TemplateCatalog } from '../templates/template-catalog.js';
import { Draft } from './draft.entity.js';
import { DraftErrors } from './drafts.errors.js';

/** `<category>.<slug of the name>`: a valid key to start from when the author gives none. */
export function deriveKeyBase(category: string, name: string): string {
  let slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (!/^[a-z]/.test(slug)) slug = slug === '' ? 'draft' : `draft-${slug}`;
  // Room for a `-<n>` suffix within MAX_KEY_LENGTH.
  return `${category}.${slug}`.slice(0, MAX_KEY_LENGTH - 6).replace(/-+$/, '');
}

/**
 * Owns the company's namespace of draft keys: a key is unique in the company (deleted drafts' keys included) and
 * never equals a catalog key, so no draft can shadow the catalog.
 */
@Injectable()
export class DraftKeys {
  constructor(
    private readonly em: EntityManager,
    private readonly catalog: TemplateCatalog,
  ) {}

  /** A catalog key is never available; a key of the company is unique (deleted drafts' keys included). */
  async assertKeyFree(key: string, em: EntityManager = this.em): Promise<void> {
    if (this.catalog.hasKey(key)) {
      throw DraftErrors.KeyConflict(`"${key}" belongs to a governed catalog template; choose another key`);
    }
    if ((await em.count(Draft, { key })) > 0) {
      throw DraftErrors.KeyConflict(`"${key}" is already used by another draft of the company`);
    }
  }

  /** `base`, else `base-2`, `base-3`, …: the first key that is neither a catalog key nor taken in the company. */
  async freeKey(base: string): Promise<string> {
    const rows = await this.em.find(Draft, { key: { $like: `${escapeLike(base)}%` } }, { fields: ['key'] });
    const taken = new Set(rows.map((d) => d.key));
    for (let n = 1; ; n++) {
      const key = n === 1 ? base : `${base}-${n}`;
      if (!taken.has(key) && !this.catalog.hasKey(key)) return key;
    }
  }
}
