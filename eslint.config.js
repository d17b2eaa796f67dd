// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const PROCESS_ENV = {
  selector: "MemberExpression[object.name='process'][property.name='env']",
  message: 'Read configuration through AppConfig (src/config), not process.env.',
};

const WALLS =
  'Every statement reaches PostgreSQL through src/tenancy/ (the scoped EntityManager, scoped(...), unscoped(reason, ...)) or a named helper in src/database/statements/.';

/** Raw SQL, filter switches and unscoped forks: allowed only in src/tenancy/ and src/database/ (README "Unscoped paths"). */
const TENANCY_WALLS = [
  {
    selector:
      "CallExpression[callee.property.name='execute'][callee.object.callee.property.name='getConnection']",
    message: `No raw SQL (getConnection().execute) in feature code. ${WALLS}`,
  },
  {
    selector:
      "CallExpression[callee.property.name='execute'][callee.object.name=/^(em|tx|trx|fork|registry|manager)$/]",
    message: `No raw SQL (em.execute) in feature code. ${WALLS}`,
  },
  {
    selector: "CallExpression[callee.property.name='execute'][callee.object.property.name='em']",
    message: `No raw SQL (em.execute) in feature code. ${WALLS}`,
  },
  {
    selector: 'MemberExpression[property.name=/^(getConnection|getKysely|getNativeClient)$/]',
    message: `No raw connection, Kysely or pg client in feature code. ${WALLS}`,
  },
  {
    selector:
      "CallExpression[callee.property.name=/^(insert|update|delete|truncate)$/] CallExpression[callee.property.name='createQueryBuilder']",
    message: `No QueryBuilder mutations in feature code: use the scoped EntityManager. ${WALLS}`,
  },
  {
    selector: "Property[key.name='filters'][value.value=false]",
    message: `No filters: false in feature code. ${WALLS}`,
  },
  {
    selector: "Property[key.name='filters'] > ObjectExpression > Property[value.value=false]",
    message: `No switching the tenant filter off in feature code (identityScope() in src/tenancy/ is the one exception). ${WALLS}`,
  },
  {
    selector: "Property[key.name='disableContextResolution']",
    message: `No unscoped forks in feature code: use TenancyService.unscoped(reason, fn). ${WALLS}`,
  },
];

const RAW_SQL_IMPORTS = {
  paths: [
    { name: 'pg', message: `No pg client in feature code. ${WALLS}` },
    { name: 'kysely', message: `No Kysely in feature code. ${WALLS}` },
    {
      name: '@mikro-orm/core',
      importNames: ['raw', 'sql'],
      message: `No raw SQL fragments in feature code. ${WALLS}`,
    },
    {
      name: '@mikro-orm/postgresql',
      importNames: ['raw', 'sql'],
      message: `No raw SQL fragments in feature code. ${WALLS}`,
    },
  ],
};

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      '.data/**',
      'coverage/**',
      'src/metadata.ts',
      'sdk/dist/**',
      'sdk/src/schema.ts',
      'src/database/migrations/Migration*.ts',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { prefer: 'type-imports', fixStyle: 'inline-type-imports', disallowTypeAnnotations: false },
      ],
      '@typescript-eslint/no-floating-promises': 'error',
      // Features add to central catalogues by declaration merging: `interface X extends Record<…, true> {}`.
      '@typescript-eslint/no-empty-object-type': ['error', { allowInterfaces: 'with-single-extends' }],
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-extraneous-class': 'off',
      'no-restricted-syntax': ['error', PROCESS_ENV, ...TENANCY_WALLS],
      'no-restricted-imports': ['error', RAW_SQL_IMPORTS],
    },
  },
  {
    // The tenancy layer and the database layer hold the few reviewed raw statements and unscoped forks.
    files: ['src/tenancy/**/*.ts', 'src/database/**/*.ts'],
    rules: { 'no-restricted-syntax': ['error', PROCESS_ENV], 'no-restricted-imports': 'off' },
  },
  {
    // Entry points and tooling may read the environment; tests drive supertest's loosely typed bodies.
    files: [
      'src/config/config.ts',
      'mikro-orm.config.ts',
      'test/**/*.ts',
      'bench/**/*.ts',
      'scripts/**/*.ts',
      'src/cli/main.ts',
      'vitest.config.ts',
    ],
    rules: { 'no-restricted-syntax': 'off', 'no-restricted-imports': 'off' },
  },
  {
    files: ['test/**/*.ts', 'src/**/*.spec.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  { files: ['eslint.config.js'], ...tseslint.configs.disableTypeChecked },
);
