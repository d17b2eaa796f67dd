import { describe, expect, it } from 'vitest';
import {
  CATEGORIES,
  compileInputSchema,
  interpolate,
  MAX_DEFINITION_BYTES,
  MAX_DEPTH,
  MAX_ERRORS,
  MAX_PATTERN_LENGTH,
  MAX_SCHEMA_PROPERTIES,
  MAX_STEPS,
  parseReference,
  patternProblem,
  referencedPaths,
  STEP_KINDS,
  validateDefinition,
  type FieldError,
  type TemplateStep,
} from './definition.js';

type Json = Record<string, unknown>;

function validDefinition(): Json {
  return {
    key: 'finance.invoice-approval',
    version: 1,
    name: 'Invoice approval',
    description: 'Approves a supplier invoice.',
    category: 'finance',
    inputSchema: {
      type: 'object',
      required: ['vendorId', 'invoiceNumber', 'amount', 'currency'],
      properties: {
        vendorId: { type: 'string' },
        invoiceNumber: { type: 'string' },
        amount: { type: 'number', minimum: 0 },
        currency: { type: 'string', enum: ['EUR', 'USD'] },
        contact: { type: 'object', properties: { email: { type: 'string', format: 'email' } } },
      },
      additionalProperties: false,
    },
    steps: [
      {
        id: 'lookup-vendor',
        kind: 'tool',
        name: 'Look up the vendor',
        toolId: 'erp.vendor.lookup',
        input: { vendorId: '{{input.vendorId}}', note: 'Invoice {{input.invoiceNumber}}' },
        timeoutMs: 10000,
        retries: 2,
      },
      {
        id: 'manager-approval',
        kind: 'approval',
        name: 'Manager approves',
        minRole: 'manager',
        prompt:
          'Approve invoice {{input.invoiceNumber}} of {{input.amount}} {{input.currency}} from {{steps.lookup-vendor.output.name}}?',
      },
      {
        id: 'pay',
        kind: 'tool',
        name: 'Schedule payment',
        toolId: 'erp.invoice.schedule_payment',
        input: {
          account: '{{steps.lookup-vendor.output.bank.account}}',
          lines: [{ ref: '{{input.invoiceNumber}}', nested: { deep: ['{{ input.contact.email }}'] } }],
          fixed: 42,
          flag: true,
          nothing: null,
        },
      },
    ],
  };
}

function steps(def: Json): Json[] {
  return def.steps as Json[];
}

function errorsOf(value: unknown, options?: { requireKey?: boolean }): FieldError[] {
  const result = validateDefinition(value, options);
  if (result.ok) throw new Error('expected the definition to be invalid');
  return result.errors;
}

function fields(value: unknown, options?: { requireKey?: boolean }): string[] {
  return errorsOf(value, options).map((e) => e.field);
}

describe('validateDefinition', () => {
  it('accepts a valid definition and returns a copy', () => {
    const def = validDefinition();
    const result = validateDefinition(def);
    expect(result).toEqual({ ok: true, value: def });
    if (result.ok) expect(result.value).not.toBe(def);
  });

  it('exports the vocabularies', () => {
    expect(CATEGORIES).toHaveLength(10);
    expect(CATEGORIES).toContain('customer-operations');
    expect(STEP_KINDS).toEqual(['tool', 'approval']);
  });

  describe('top level', () => {
    it('rejects values that are not objects', () => {
      for (const value of [null, 'x', 3, [], true]) {
        expect(fields(value)).toEqual(['']);
      }
    });

    it('rejects unknown top-level fields', () => {
      const def = { ...validDefinition(), companyId: 'x', extra: 1 };
      expect(fields(def)).toEqual(['companyId', 'extra']);
    });

    it('requires every field', () => {
      expect(fields({})).toEqual([
        'key',
        'version',
        'name',
        'description',
        'category',
        'inputSchema',
        'steps',
      ]);
    });

    it('checks the key', () => {
      for (const key of [
        'Finance.invoice',
        'finance',
        'finance..x',
        '1abc.def',
        'finance.invoice_approval',
        'a.' + 'b'.repeat(99),
      ]) {
        expect(fields({ ...validDefinition(), key })).toEqual(['key']);
      }
      expect(validateDefinition({ ...validDefinition(), key: 'a.b-c.d9' }).ok).toBe(true);
    });

    it('checks the version', () => {
      for (const version of [0, -1, 1.5, '1', null]) {
        expect(fields({ ...validDefinition(), version })).toEqual(['version']);
      }
    });

    it('checks name, description and category', () => {
      const def = { ...validDefinition(), name: '', description: 'x'.repeat(2001), category: 'marketing' };
      const errors = errorsOf(def);
      expect(errors.map((e) => e.field)).toEqual(['name', 'description', 'category']);
      expect(errors[2]?.message).toContain('finance');
      expect(fields({ ...validDefinition(), name: '   ' })).toEqual(['name']);
      expect(fields({ ...validDefinition(), name: 'x'.repeat(201) })).toEqual(['name']);
      expect(validateDefinition({ ...validDefinition(), name: 'x'.repeat(200) }).ok).toBe(true);
    });

    it('makes key and version optional for drafts, but still checks them when present', () => {
      const { key: _key, version: _version, ...draft } = validDefinition();
      expect(fields(draft)).toEqual(['key', 'version']);
      expect(validateDefinition(draft, { requireKey: false }).ok).toBe(true);
      expect(fields({ ...draft, key: 'Bad' }, { requireKey: false })).toEqual(['key']);
      expect(fields({ ...draft, version: 0 }, { requireKey: false })).toEqual(['version']);
    });

    it('collects all errors rather than stopping at the first', () => {
      const def = validDefinition();
      def.category = 'nope';
      steps(def)[0].kind = 'script';
      steps(def)[1].minRole = 'superuser';
      steps(def)[2].toolId = 'NotATool';
      expect(fields(def)).toEqual(['category', 'steps.0.kind', 'steps.1.minRole', 'steps.2.toolId']);
    });
  });

  describe('envelope', () => {
    it(`rejects definitions nested deeper than ${MAX_DEPTH} levels at the root path`, () => {
      let nested: unknown = 'leaf';
      for (let i = 0; i < MAX_DEPTH; i++) nested = { n: nested };
      const def = validDefinition();
      (steps(def)[0].input as Json).deep = nested;
      const errors = errorsOf(def);
      expect(errors).toHaveLength(1);
      expect(errors[0]?.field).toBe('');
      expect(errors[0]?.message).toContain(String(MAX_DEPTH));
    });

    it('survives absurdly deep and cyclic values', () => {
      let nested: unknown = 1;
      for (let i = 0; i < 100_000; i++) nested = [nested];
      expect(fields({ ...validDefinition(), name: nested })).toEqual(['']);
      const cyclic: Json = validDefinition();
      cyclic.self = cyclic;
      expect(fields(cyclic)).toEqual(['']);
    });

    it(`rejects definitions larger than ${MAX_DEFINITION_BYTES} bytes at the root path`, () => {
      const def = validDefinition();
      (steps(def)[0].input as Json).blob = 'x'.repeat(MAX_DEFINITION_BYTES);
      expect(errorsOf(def)).toEqual([
        { field: '', message: expect.stringContaining(String(MAX_DEFINITION_BYTES)) as string },
      ]);
      // multi-byte characters count as bytes, not characters
      const wide = validDefinition();
      (steps(wide)[0].input as Json).blob = 'é'.repeat(MAX_DEFINITION_BYTES / 2);
      expect(fields(wide)).toEqual(['']);
    });

    it('rejects values that are not JSON-serialisable', () => {
      expect(fields({ ...validDefinition(), version: 10n })).toEqual(['']);
    });

    it('does not let a __proto__ key pollute anything', () => {
      const def = validDefinition();
      const input = JSON.parse('{"__proto__": {"polluted": true}, "x": "{{input.vendorId}}"}') as Json;
      steps(def)[0].input = input;
      const result = validateDefinition(def);
      expect(result.ok).toBe(true);
      expect(({} as Json).polluted).toBeUndefined();
    });
  });

  describe('steps', () => {
    it('needs between 1 and MAX_STEPS steps', () => {
      expect(fields({ ...validDefinition(), steps: [] })).toEqual(['steps']);
      expect(fields({ ...validDefinition(), steps: {} })).toEqual(['steps']);
      const many = Array.from({ length: MAX_STEPS + 1 }, (_, i) => ({
        id: `s${i}`,
        kind: 'tool',
        name: 'Step',
        toolId: 'a.b',
      }));
      expect(fields({ ...validDefinition(), steps: many })).toEqual(['steps']);
      expect(validateDefinition({ ...validDefinition(), steps: many.slice(0, MAX_STEPS) }).ok).toBe(true);
    });

    it('reports a huge steps array as too many steps, before any size or depth check', () => {
      const huge = Array.from({ length: 10_000 }, (_, i) => ({
        id: `s${i}`,
        kind: 'tool',
        name: 'Step '.repeat(20),
        toolId: 'a.b',
      }));
      expect(errorsOf({ ...validDefinition(), steps: huge })).toEqual([
        { field: 'steps', message: `must hold at most ${MAX_STEPS} steps (got 10000)` },
      ]);
    });

    it('rejects a step that is not an object', () => {
      const def = validDefinition();
      steps(def).push('step' as unknown as Json);
      expect(fields(def)).toEqual(['steps.3']);
    });

    it('checks step ids and reports duplicates on the later step', () => {
      const def = validDefinition();
      steps(def)[2].id = 'lookup-vendor';
      expect(errorsOf(def)).toEqual([
        { field: 'steps.2.id', message: expect.stringContaining('duplicate') as string },
      ]);
      for (const id of ['Upper', '1x', 'a_b', 'a'.repeat(64), '', 7]) {
        const bad = validDefinition();
        steps(bad)[2].id = id;
        expect(fields(bad)).toEqual(['steps.2.id']);
      }
      const ok = validDefinition();
      steps(ok)[2].id = 'a'.repeat(63);
      expect(validateDefinition(ok).ok).toBe(true);
    });

    it('reports an unknown or missing kind at steps.N.kind', () => {
      const def = validDefinition();
      steps(def)[0].kind = 'script';
      const errors = errorsOf(def);
      expect(errors.map((e) => e.field)).toEqual(['steps.0.kind']);
      expect(errors[0]?.message).toContain('tool, approval');
      delete steps(def)[0].kind;
      // references to that step are not reported once more
      expect(fields(def)).toEqual(['steps.0.kind']);
    });

    it('rejects unknown step fields and fields of the other kind', () => {
      const def = validDefinition();
      steps(def)[0].prompt = 'hello';
      steps(def)[0].when = 'always';
      steps(def)[1].toolId = 'a.b';
      expect(fields(def)).toEqual(['steps.0.prompt', 'steps.0.when', 'steps.1.toolId']);
    });

    it('requires a step name', () => {
      const def = validDefinition();
      delete steps(def)[0].name;
      steps(def)[1].name = 'x'.repeat(201);
      expect(fields(def)).toEqual(['steps.0.name', 'steps.1.name']);
    });

    it('checks tool steps', () => {
      const def = validDefinition();
      Object.assign(steps(def)[0], { toolId: 'erp', input: ['x'], timeoutMs: 99, retries: 6 });
      expect(fields(def)).toEqual([
        'steps.0.toolId',
        'steps.0.input',
        'steps.0.timeoutMs',
        'steps.0.retries',
      ]);
      Object.assign(steps(def)[0], {
        toolId: 'e.' + 'x'.repeat(99),
        input: {},
        timeoutMs: 60001,
        retries: 1.5,
      });
      expect(fields(def)).toEqual(['steps.0.toolId', 'steps.0.timeoutMs', 'steps.0.retries']);
      Object.assign(steps(def)[0], { toolId: 'erp.vendor_v2.look-up', timeoutMs: 100, retries: 0 });
      expect(validateDefinition(def).ok).toBe(true);
      delete steps(def)[0].toolId;
      expect(fields(def)).toEqual(['steps.0.toolId']);
    });

    it('allows a tool step without input, timeout or retries', () => {
      const def = validDefinition();
      def.steps = [{ id: 'only', kind: 'tool', name: 'Only', toolId: 'mail.send' }];
      expect(validateDefinition(def).ok).toBe(true);
    });

    it('checks approval steps: a role that does not exist is refused at steps.N.minRole', () => {
      const def = validDefinition();
      steps(def)[1].minRole = 'superadmin';
      expect(fields(def)).toEqual(['steps.1.minRole']);
      for (const minRole of ['owner', 'admin', 'manager', 'member']) {
        steps(def)[1].minRole = minRole;
        expect(validateDefinition(def).ok).toBe(true);
      }
      steps(def)[1].prompt = '';
      expect(fields(def)).toEqual(['steps.1.prompt']);
      steps(def)[1].prompt = 'x'.repeat(1001);
      expect(fields(def)).toEqual(['steps.1.prompt']);
      delete steps(def)[1].prompt;
      delete steps(def)[1].minRole;
      expect(fields(def)).toEqual(['steps.1.minRole', 'steps.1.prompt']);
    });
  });

  describe('references', () => {
    it('requires {{input.…}} to name a declared property', () => {
      const def = validDefinition();
      (steps(def)[0].input as Json).note = 'Invoice {{input.invoiceNo}}';
      steps(def)[1].prompt = 'Approve {{input.total}}?';
      const errors = errorsOf(def);
      expect(errors.map((e) => e.field)).toEqual(['steps.0.input.note', 'steps.1.prompt']);
      expect(errors[0]?.message).toContain('invoiceNo');
    });

    it('reports the path of nested strings', () => {
      const def = validDefinition();
      (steps(def)[2].input as Json).lines = [{ nested: { deep: ['ok', '{{input.missing}}'] } }];
      expect(fields(def)).toEqual(['steps.2.input.lines.0.nested.deep.1']);
    });

    it('requires {{steps.<id>.output…}} to name an earlier tool step', () => {
      const later = validDefinition();
      (steps(later)[0].input as Json).x = '{{steps.pay.output.id}}';
      const self = validDefinition();
      (steps(self)[0].input as Json).x = '{{steps.lookup-vendor.output}}';
      const approval = validDefinition();
      (steps(approval)[2].input as Json).x = '{{steps.manager-approval.output.verdict}}';
      const unknown = validDefinition();
      (steps(unknown)[2].input as Json).x = '{{steps.nope.output}}';
      for (const [def, field, word] of [
        [later, 'steps.0.input.x', 'earlier'],
        [self, 'steps.0.input.x', 'earlier'],
        [approval, 'steps.2.input.x', 'not a tool step'],
        [unknown, 'steps.2.input.x', 'does not exist'],
      ] as const) {
        const errors = errorsOf(def);
        expect(errors.map((e) => e.field)).toEqual([field]);
        expect(errors[0]?.message).toContain(word);
      }
    });

    it('rejects anything else between braces', () => {
      for (const text of [
        '{{input}}',
        '{{foo.bar}}',
        '{{steps.lookup-vendor}}',
        '{{steps.lookup-vendor.result}}',
        '{{input..x}}',
        '{{ }}',
        '{{input.a b}}',
        'open {{input.vendorId',
      ]) {
        const def = validDefinition();
        (steps(def)[2].input as Json).x = text;
        expect(fields(def), text).toEqual(['steps.2.input.x']);
      }
    });

    it('skips input checks when inputSchema is missing, rather than cascading', () => {
      const def = validDefinition();
      delete def.inputSchema;
      expect(fields(def)).toEqual(['inputSchema']);
    });

    it('lists the references of a step', () => {
      const def = validDefinition();
      expect(referencedPaths(steps(def)[2] as unknown as TemplateStep)).toEqual([
        {
          field: 'input.account',
          expression: 'steps.lookup-vendor.output.bank.account',
          parsed: { root: 'steps', stepId: 'lookup-vendor', path: ['bank', 'account'] },
        },
        {
          field: 'input.lines.0.ref',
          expression: 'input.invoiceNumber',
          parsed: { root: 'input', path: ['invoiceNumber'] },
        },
        {
          field: 'input.lines.0.nested.deep.0',
          expression: 'input.contact.email',
          parsed: { root: 'input', path: ['contact', 'email'] },
        },
      ]);
      expect(referencedPaths(steps(def)[1] as unknown as TemplateStep).map((r) => r.field)).toEqual([
        'prompt',
        'prompt',
        'prompt',
        'prompt',
      ]);
      expect(parseReference('steps.a.output')).toEqual({ root: 'steps', stepId: 'a', path: [] });
      expect(parseReference('input')).toBeNull();
    });
  });

  describe('inputSchema', () => {
    function withSchema(schema: unknown): Json {
      const def = validDefinition();
      def.inputSchema = schema;
      def.steps = [{ id: 'a', kind: 'tool', name: 'A', toolId: 'x.y' }];
      return def;
    }

    it('must be an object schema', () => {
      expect(fields(withSchema([]))).toEqual(['inputSchema']);
      expect(fields(withSchema({ type: 'array', items: { type: 'string' } }))).toEqual(['inputSchema.type']);
      expect(fields(withSchema({ properties: {} }))).toEqual(['inputSchema.type']);
      expect(validateDefinition(withSchema({ type: 'object' })).ok).toBe(true);
    });

    it('must be valid draft 2020-12 JSON Schema', () => {
      const errors = errorsOf(
        withSchema({ type: 'object', properties: { a: { type: 'string', minLength: 'x' } } }),
      );
      expect(errors.map((e) => e.field)).toEqual(['inputSchema.properties.a.minLength']);
      expect(
        fields(withSchema({ $schema: 'http://json-schema.org/draft-07/schema#', type: 'object' })),
      ).toEqual(['inputSchema.$schema']);
      expect(
        validateDefinition(
          withSchema({ $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object' }),
        ).ok,
      ).toBe(true);
    });

    it('must compile with Ajv (strict keywords, known formats, resolvable refs, declared required)', () => {
      for (const schema of [
        { type: 'object', properties: { a: { type: 'string', colour: 'red' } } },
        { type: 'object', properties: { a: { type: 'string', format: 'credit-card' } } },
        { type: 'object', properties: { a: { $ref: 'https://example.com/schema.json' } } },
        { type: 'object', required: ['b'], properties: { a: { type: 'string' } } },
        { type: 'object', $async: true },
      ]) {
        const errors = errorsOf(withSchema(schema));
        expect(
          errors.map((e) => e.field),
          JSON.stringify(schema),
        ).toEqual(['inputSchema']);
      }
    });

    it('accepts local $defs, nested objects, arrays and the supported formats', () => {
      const schema = {
        type: 'object',
        $defs: { money: { type: 'number', minimum: 0 } },
        properties: {
          amount: { $ref: '#/$defs/money' },
          when: { type: 'string', format: 'date' },
          at: { type: 'string', format: 'date-time' },
          who: { type: 'string', format: 'email' },
          host: { type: 'string', format: 'hostname' },
          lines: { type: 'array', items: { type: 'object', properties: { q: { type: 'integer' } } } },
          choice: { type: ['string', 'null'], enum: ['a', 'b', null] },
        },
      };
      expect(validateDefinition(withSchema(schema)).ok).toBe(true);
    });

    it('is at most 10 levels deep', () => {
      let inner: Json = { type: 'string' };
      for (let i = 0; i < 4; i++) inner = { type: 'object', properties: { p: inner } };
      expect(validateDefinition(withSchema(inner)).ok).toBe(true); // depth 9
      inner = { type: 'object', properties: { p: inner } }; // depth 11
      expect(errorsOf(withSchema(inner))).toEqual([
        { field: 'inputSchema', message: expect.stringContaining('10 levels') as string },
      ]);
    });

    it(`declares at most ${MAX_SCHEMA_PROPERTIES} properties, counted at every level`, () => {
      const props = (n: number, prefix: string): Json =>
        Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${i}`, { type: 'string' }]));
      const ok = {
        type: 'object',
        properties: { ...props(49, 'a'), nested: { type: 'object', properties: props(50, 'b') } },
      };
      expect(validateDefinition(withSchema(ok)).ok).toBe(true);
      const tooMany = {
        type: 'object',
        properties: {
          ...props(50, 'a'),
          list: { type: 'array', items: { type: 'object', properties: props(50, 'b') } },
        },
      };
      expect(errorsOf(withSchema(tooMany))).toEqual([
        { field: 'inputSchema', message: expect.stringContaining('101') as string },
      ]);
    });
  });

  describe('inputSchema patterns (ReDoS)', () => {
    function withSchema(schema: unknown): Json {
      const def = validDefinition();
      def.inputSchema = schema;
      def.steps = [{ id: 'a', kind: 'tool', name: 'A', toolId: 'x.y' }];
      return def;
    }

    it('refuses a pattern the linear-time engine cannot run wherever it stands, naming its path', () => {
      const errors = errorsOf(
        withSchema({
          type: 'object',
          properties: {
            s: { type: 'string', pattern: '^(?=a)a+$' },
            list: { type: 'array', items: { type: 'string', pattern: '^(a)\\1$' } },
            pick: { anyOf: [{ type: 'string' }, { type: 'string', pattern: '(?!x)y' }] },
            // A property *named* pattern is a schema, not a pattern: only its own keyword counts.
            pattern: { type: 'string', pattern: '^[a-z]+$' },
            map: { type: 'object', patternProperties: { '^(?<=k)k$': { type: 'string' } } },
            names: { type: 'object', propertyNames: { pattern: '^(?=[a-z])' } },
          },
          $defs: { code: { type: 'string', pattern: '(\\d)\\1' } },
        }),
      );
      expect(errors.map((e) => e.field).sort()).toEqual(
        [
          'inputSchema.properties.s.pattern',
          'inputSchema.properties.list.items.pattern',
          'inputSchema.properties.pick.anyOf.1.pattern',
          'inputSchema.properties.map.patternProperties.^(?<=k)k$',
          'inputSchema.properties.names.propertyNames.pattern',
          'inputSchema.$defs.code.pattern',
        ].sort(),
      );
      expect(errors[0].message).toMatch(/linear-time engine/);
      expect(errors.some((e) => e.message.includes('does not compile'))).toBe(false);
    });

    it(`caps a pattern at ${MAX_PATTERN_LENGTH} characters and refuses one that is not a regular expression`, () => {
      const long = `^${'a'.repeat(MAX_PATTERN_LENGTH)}$`;
      expect(
        errorsOf(withSchema({ type: 'object', properties: { s: { type: 'string', pattern: long } } })),
      ).toEqual([
        {
          field: 'inputSchema.properties.s.pattern',
          message: expect.stringContaining(`at most ${MAX_PATTERN_LENGTH}`) as string,
        },
      ]);
      expect(
        fields(withSchema({ type: 'object', properties: { s: { type: 'string', pattern: '(' } } })),
      ).toEqual(['inputSchema.properties.s.pattern']);
    });

    it('accepts ordinary patterns, optional groups included', () => {
      for (const pattern of [
        '^[0-9]{5}$',
        '^[A-Z]{2}(-[A-Z0-9]{1,3})?$',
        '^(v?[0-9]+\\.[0-9]+\\.[0-9]+(-[0-9A-Za-z.-]+)?|[0-9a-f]{7,40})$',
        '^@[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)?$',
        '^[(]?[0-9]+[)]?$',
        '^\\(a\\)?$',
      ]) {
        expect(patternProblem(pattern), pattern).toBeNull();
      }
    });

    it('accepts patterns a backtracking engine takes exponential time on, and matches them in linear time', () => {
      const hostile: [string, string][] = [
        ['^(\\w|\\d)*$', '1'],
        ['^(a|a)*$', 'a'],
        ['^(a|aa)*$', 'a'],
        ['^([a-z]|[a-c])*$', 'a'],
        ['^(a+)+$', 'a'],
        ['^((a+)?b)+$', 'a'],
      ];
      for (const [pattern, unit] of hostile) {
        expect(patternProblem(pattern), pattern).toBeNull();
        const validate = compileInputSchema({
          type: 'object',
          properties: { s: { type: 'string', pattern } },
        });
        // n = 10,000 and one character that makes the whole match fail: a backtracking engine never returns.
        expect(validate({ s: `${unit.repeat(10_000)}!` }), pattern).toBe(false);
        expect(validate({ s: unit.repeat(10_000) }), pattern).toBe(!pattern.includes('b)+'));
      }
    });

    it('refuses a pattern the engine cannot run at compile time too (stored before the check)', () => {
      expect(() =>
        compileInputSchema({ type: 'object', properties: { s: { type: 'string', pattern: '^(?=a)a$' } } }),
      ).toThrow(/linear-time engine/);
    });
  });

  it(`reports at most ${MAX_ERRORS} errors and says how many more there were`, () => {
    const def = validDefinition();
    (steps(def)[0].input as Json).many = Array.from({ length: 150 }, () => '{{nope}}');
    const errors = errorsOf(def);
    expect(errors).toHaveLength(MAX_ERRORS + 1);
    expect(errors[MAX_ERRORS]).toEqual({ field: '', message: '50 more errors not shown' });
  });
});

describe('compileInputSchema', () => {
  it('validates run input, including formats', () => {
    const validate = compileInputSchema({
      type: 'object',
      required: ['email', 'day'],
      properties: {
        email: { type: 'string', format: 'email' },
        day: { type: 'string', format: 'date' },
        at: { type: 'string', format: 'date-time' },
        id: { type: 'string', format: 'uuid' },
        ip: { type: 'string', format: 'ipv4' },
        link: { type: 'string', format: 'uri' },
      },
      additionalProperties: false,
    });
    expect(validate({ email: 'a@example.com', day: '2024-02-29' })).toBe(true);
    expect(
      validate({
        email: 'a@example.com',
        day: '2024-01-31',
        at: '2024-01-31T10:00:00Z',
        id: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
        ip: '10.0.0.1',
        link: 'https://example.com/x',
      }),
    ).toBe(true);
    expect(validate({ email: 'not-an-email', day: '2023-02-29' })).toBe(false);
    expect(validate.errors?.map((e) => e.instancePath).sort()).toEqual(['/day', '/email']);
    expect(validate({ email: 'a@example.com', day: '2024-01-01', at: '2024-01-01', ip: '300.0.0.1' })).toBe(
      false,
    );
    expect(validate({ email: 'a@example.com', day: '2024-01-01', extra: 1 })).toBe(false);
  });

  it('keeps schemas with the same $id apart', () => {
    const a = compileInputSchema({
      $id: 'https://example.com/s',
      type: 'object',
      required: ['a'],
      properties: { a: {} },
    });
    const b = compileInputSchema({
      $id: 'https://example.com/s',
      type: 'object',
      required: ['b'],
      properties: { b: {} },
    });
    expect(a({ a: 1 })).toBe(true);
    expect(b({ a: 1 })).toBe(false);
  });
});

describe('interpolate', () => {
  const scope = {
    input: { name: 'Ada', amount: 12.5, tags: ['x', 'y'], nested: { deep: { v: true } }, none: null },
    steps: { lookup: { output: { id: 7, vendor: { name: 'ACME' }, list: [{ a: 1 }, { a: 2 }] } } },
  };

  it('replaces a string that is exactly one reference with the value itself', () => {
    expect(interpolate('{{input.amount}}', scope)).toBe(12.5);
    expect(interpolate('{{input.tags}}', scope)).toEqual(['x', 'y']);
    expect(interpolate('{{ input.nested.deep }}', scope)).toEqual({ v: true });
    expect(interpolate('{{steps.lookup.output}}', scope)).toEqual(scope.steps.lookup.output);
    expect(interpolate('{{steps.lookup.output.list.1.a}}', scope)).toBe(2);
    expect(interpolate('{{input.none}}', scope)).toBeNull();
  });

  it('turns a reference to nothing into null', () => {
    expect(interpolate('{{input.missing}}', scope)).toBeNull();
    expect(interpolate('{{input.name.length}}', scope)).toBeNull();
    expect(interpolate('{{input.tags.5}}', scope)).toBeNull();
    expect(interpolate('{{steps.other.output.x}}', scope)).toBeNull();
    expect(interpolate('{{input.constructor}}', scope)).toBeNull();
    expect(interpolate('{{steps.toString.output}}', scope)).toBeNull();
    expect(interpolate('{{input.__proto__}}', scope)).toBeNull();
  });

  it('stringifies references inside text', () => {
    expect(interpolate('Hi {{input.name}}, {{input.amount}} due', scope)).toBe('Hi Ada, 12.5 due');
    expect(interpolate('tags={{input.tags}} v={{input.nested.deep.v}}', scope)).toBe('tags=["x","y"] v=true');
    expect(interpolate('vendor {{steps.lookup.output.vendor}}!', scope)).toBe('vendor {"name":"ACME"}!');
    expect(interpolate('[{{input.missing}}|{{input.none}}]', scope)).toBe('[|]');
    expect(interpolate(' {{input.amount}}', scope)).toBe(' 12.5');
  });

  it('leaves text that is not a reference as written', () => {
    expect(interpolate('plain', scope)).toBe('plain');
    expect(interpolate('{{foo}} and {{input.name}}', scope)).toBe('{{foo}} and Ada');
    expect(interpolate('{{foo}}', scope)).toBe('{{foo}}');
    expect(interpolate('unterminated {{input.name', scope)).toBe('unterminated {{input.name');
  });

  it('walks arrays and objects and keeps other values', () => {
    const template = {
      a: '{{input.amount}}',
      b: ['{{input.name}}', 'x {{steps.lookup.output.id}}', 3, false, null],
      c: { d: { e: '{{input.tags}}' } },
    };
    expect(interpolate(template, scope)).toEqual({
      a: 12.5,
      b: ['Ada', 'x 7', 3, false, null],
      c: { d: { e: ['x', 'y'] } },
    });
    expect(interpolate(5, scope)).toBe(5);
    expect(interpolate(null, scope)).toBeNull();
    expect(template.a).toBe('{{input.amount}}');
  });

  it('keeps a __proto__ key as plain data', () => {
    const template = JSON.parse('{"__proto__": {"x": "{{input.name}}"}}') as unknown;
    const out = interpolate(template, scope) as Json;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.hasOwn(out, '__proto__')).toBe(true);
  });
});
