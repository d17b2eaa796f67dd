import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { catalogDirectory, loadCatalog, splitCatalogEntry } from './catalog.js';
import { CATEGORIES, compileInputSchema, validateDefinition, type TemplateDefinition } from './definition.js';

const dir = catalogDirectory();
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort();
const raw = files.map((file) => ({
  file,
  value: JSON.parse(readFileSync(join(dir, file), 'utf8')) as unknown,
}));

describe('template catalog', () => {
  it('holds exactly 45 templates and nothing else', () => {
    expect(files).toHaveLength(45);
    expect(readdirSync(dir).filter((f) => !f.endsWith('.json'))).toEqual([]);
  });

  it.each(raw)(
    '$file is a valid definition named after its key, with a stable UUID v7 id',
    ({ file, value }) => {
      const { id, definition } = splitCatalogEntry(value);
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      const result = validateDefinition(definition);
      expect(result.ok ? [] : result.errors).toEqual([]);
      if (!result.ok) return;
      expect(file).toBe(`${result.value.key}.json`);
      expect(result.value.version).toBe(1);
      expect(result.value.key.split('.')[0]).toBe(result.value.category);
      const validate = compileInputSchema(result.value.inputSchema);
      expect(typeof validate).toBe('function');
    },
  );

  it('refuses an id inside a definition: the id is catalog-only', () => {
    const { definition } = splitCatalogEntry(raw[0].value);
    const result = validateDefinition({
      ...(definition as object),
      id: '01900000-0000-7000-8000-000000000000',
    });
    expect(result.ok ? [] : result.errors.map((e) => e.field)).toEqual(['id']);
  });

  it('loads sorted by key, with unique keys, names and ids', () => {
    const entries = loadCatalog();
    expect(new Set(entries.map((e) => e.id)).size).toBe(45);
    const catalog = entries.map((e) => e.definition);
    const keys = catalog.map((t) => t.key);
    expect(catalog).toHaveLength(45);
    expect(new Set(keys).size).toBe(45);
    expect(new Set(catalog.map((t) => t.name)).size).toBe(45);
    expect(keys).toEqual([...keys].sort());
  });

  it('spreads the templates over every category, several each', () => {
    const perCategory = new Map<string, number>();
    for (const { definition: t } of loadCatalog())
      perCategory.set(t.category, (perCategory.get(t.category) ?? 0) + 1);
    expect([...perCategory.keys()].sort()).toEqual([...CATEGORIES].sort());
    for (const [category, count] of perCategory) {
      expect(count, category).toBeGreaterThanOrEqual(4);
      expect(count, category).toBeLessThanOrEqual(6);
    }
  });

  it('varies its shapes: step counts, kinds, roles and input features', () => {
    const catalog: TemplateDefinition[] = loadCatalog().map((e) => e.definition);
    const counts = new Set(catalog.map((t) => t.steps.length));
    expect(Math.min(...counts)).toBeLessThanOrEqual(2);
    expect(Math.max(...counts)).toBeGreaterThanOrEqual(8);
    const roles = new Set(
      catalog.flatMap((t) => t.steps.flatMap((s) => (s.kind === 'approval' ? [s.minRole] : []))),
    );
    expect([...roles].sort()).toEqual(['admin', 'manager', 'member', 'owner']);
    const schemas = JSON.stringify(catalog.map((t) => t.inputSchema));
    for (const feature of [
      '"required"',
      '"enum"',
      '"format":"email"',
      '"format":"date"',
      '"minimum"',
      '"maximum"',
      '"type":"array"',
    ]) {
      expect(schemas, feature).toContain(feature);
    }
    for (const t of catalog) {
      expect(t.description.length, t.key).toBeGreaterThanOrEqual(40);
      expect(
        t.steps.some((s) => s.kind === 'tool'),
        t.key,
      ).toBe(true);
    }
  });

  it('accepts the example run inputs its schemas describe', () => {
    const invoice = loadCatalog().find((t) => t.definition.key === 'finance.invoice-approval')?.definition;
    expect(invoice).toBeDefined();
    const validate = compileInputSchema(invoice!.inputSchema);
    expect(
      validate({
        vendorId: 'V-1',
        invoiceNumber: 'INV-7',
        amount: 120.5,
        currency: 'EUR',
        invoiceDate: '2025-01-31',
      }),
    ).toBe(true);
    expect(
      validate({ vendorId: 'V-1', invoiceNumber: 'INV-7', amount: -1, currency: 'XXX', invoiceDate: 'soon' }),
    ).toBe(false);
  });
});
