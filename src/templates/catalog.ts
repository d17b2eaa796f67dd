/**
 * The governed template catalog: one JSON file per template in `src/templates/catalog/`, named
 * `<key>.json`. Read synchronously, validated, sorted by key.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateDefinition, type TemplateDefinition } from './definition.js';

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
export function loadCatalog(): TemplateDefinition[] {
  const dir = catalogDirectory();
  const files = readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .sort();
  const byKey = new Map<string, string>();
  const templates: TemplateDefinition[] = [];
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
    const result = validateDefinition(raw);
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
    byKey.set(template.key, file);
    templates.push(template);
  }
  return templates.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
