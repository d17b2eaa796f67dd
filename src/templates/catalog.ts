/**
 * The governed template catalog: one JSON file per template in `src/templates/catalog/`, named
 * `<key>.json`. Read synchronously, validated, sorted by key.
 *
 * Each file carries, besides the definition, a catalog-only `id`: a UUID v7 generated once when the
 * entry was added and never changed, so API ids are stable across deployments and databases. The id
 * is not part of the definition format (drafts cannot send one); it is taken off before validation.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { version as uuidVersion } from 'uuid';
import { isUuid } from '../common/ids.js';
import { validateDefinition, type TemplateDefinition } from './definition.js';

/** A catalog entry: its stable id and its (validated) definition. */
export interface CatalogTemplate {
  id: string;
  definition: TemplateDefinition;
}

/** Splits a catalog file into its `id` and the definition to validate. */
export function splitCatalogEntry(raw: unknown): { id: unknown; definition: unknown } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return { id: undefined, definition: raw };
  const { id, ...definition } = raw as Record<string, unknown>;
  return { id, definition };
}

/**
 * The catalog folder. Next to this module when running from source; when running compiled from
 * `dist/src/templates/` (tsc does not copy JSON) the source folder of the package is used instead:
 * walk up to the directory holding package.json and take `<root>/src/templates/catalog`.
 */
export function catalogDirectory(): string {
  const beside = fileURLToPath(new URL('./catalog/', import.meta.url));
  if (existsSync(beside)) return beside;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) {
      const source = join(dir, 'src', 'templates', 'catalog');
      if (existsSync(source)) return source;
      throw new Error(`template catalog not found: neither ${beside} nor ${source} exists`);
    }
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error(`template catalog not found: no ${beside} and no package.json above it`);
    dir = parent;
  }
}

/** Every catalog template, validated, sorted by key. Throws, naming the file, on the first bad one. */
export function loadCatalog(): CatalogTemplate[] {
  const dir = catalogDirectory();
  const files = readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .sort();
  const byKey = new Map<string, string>();
  const byId = new Map<string, string>();
  const templates: CatalogTemplate[] = [];
  for (const file of files) {
    const path = join(dir, file);
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(path, 'utf8'));
    } catch (error: unknown) {
      throw new Error(
        `template catalog: ${file} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
    const { id, definition } = splitCatalogEntry(raw);
    if (!isUuid(id) || uuidVersion(id) !== 7 || id !== id.toLowerCase()) {
      throw new Error(
        `template catalog: ${file} needs an "id" that is a lowercase UUID v7 (generate it once)`,
      );
    }
    const result = validateDefinition(definition);
    if (!result.ok) {
      const details = result.errors.map((e) => `${e.field || '(root)'}: ${e.message}`).join('; ');
      throw new Error(`template catalog: ${file} is not a valid template definition: ${details}`);
    }
    const template = result.value;
    if (file !== `${template.key}.json`) {
      throw new Error(
        `template catalog: ${file} holds key "${template.key}"; the file must be named ${template.key}.json`,
      );
    }
    const other = byKey.get(template.key);
    if (other !== undefined)
      throw new Error(`template catalog: ${file} and ${other} share key "${template.key}"`);
    const sameId = byId.get(id);
    if (sameId !== undefined) throw new Error(`template catalog: ${file} and ${sameId} share id "${id}"`);
    byKey.set(template.key, file);
    byId.set(id, file);
    templates.push({ id, definition: template });
  }
  return templates.sort((a, b) =>
    a.definition.key < b.definition.key ? -1 : a.definition.key > b.definition.key ? 1 : 0,
  );
}
