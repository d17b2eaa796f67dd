import { Errors } from '../common/errors/app-error.js';
import { DEFAULT_LIMIT, decodeCursor, encodeCursor, type Page } from '../common/pagination.js';
import { loadCatalog, type CatalogTemplate } from './catalog.js';
import type { Category } from './definition.js';

export interface CatalogQuery {
  category?: Category;
  /** Case-insensitive substring of the name. */
  q?: string;
  limit?: number;
  cursor?: string;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/**
 * The governed catalog, read from the repository once at start (a few dozen entries: memory, not the
 * database) and the same for every company. Entries are deep-frozen: nothing at run time can change one.
 * Listed by key (stable, groups a category together); the cursor names the last entry's id.
 */
export class TemplateCatalog {
  private readonly entries: readonly CatalogTemplate[];
  private readonly byId: ReadonlyMap<string, CatalogTemplate>;
  private readonly keys: ReadonlySet<string>;

  constructor(entries: CatalogTemplate[]) {
    this.entries = deepFreeze([...entries].sort((a, b) => compare(a.definition.key, b.definition.key)));
    this.byId = new Map(this.entries.map((e) => [e.id, e]));
    this.keys = new Set(this.entries.map((e) => e.definition.key));
  }

  /** Reads and validates the catalog files (throws, naming the file, when one is invalid). */
  static load(): TemplateCatalog {
    return new TemplateCatalog(loadCatalog());
  }

  get size(): number {
    return this.entries.length;
  }

  /** The entry with this id, or undefined (ids that are not UUIDs simply match nothing). */
  findById(id: string): CatalogTemplate | undefined {
    return this.byId.get(id);
  }

  /** Whether a catalog entry owns this key: no company draft may use it. */
  hasKey(key: string): boolean {
    return this.keys.has(key);
  }

  list(query: CatalogQuery): Page<CatalogTemplate> {
    const limit = query.limit ?? DEFAULT_LIMIT;
    const afterId = decodeCursor(query.cursor);
    let afterKey: string | undefined;
    if (afterId !== undefined) {
      const after = this.byId.get(afterId);
      if (!after) throw Errors.field('cursor', 'is not a cursor this API issued');
      afterKey = after.definition.key;
    }
    const needle = query.q?.trim().toLowerCase() ?? '';
    const matches: CatalogTemplate[] = [];
    for (const entry of this.entries) {
      const d = entry.definition;
      if (afterKey !== undefined && d.key <= afterKey) continue;
      if (query.category !== undefined && d.category !== query.category) continue;
      if (needle !== '' && !d.name.toLowerCase().includes(needle)) continue;
      matches.push(entry);
      if (matches.length > limit) break;
    }
    const more = matches.length > limit;
    const data = more ? matches.slice(0, limit) : matches;
    const last = data.at(-1);
    return { data, nextCursor: more && last ? encodeCursor(last.id) : null };
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
