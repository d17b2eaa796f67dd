/**
 * `npm run openapi` writes openapi.json without a database: it regenerates the Swagger plugin metadata
 * (src/metadata.ts, from the DTOs' types, class-validator rules and doc comments), builds the app in Nest's
 * preview mode (no provider runs, nothing connects), writes the document and the SDK's types generated from it
 * (sdk/src/schema.ts, openapi-typescript). `-- --check` fails instead of writing when any of them is stale
 * (CI runs it).
 */
import 'reflect-metadata';
import { readFileSync, writeFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { SwaggerModule } from '@nestjs/swagger';
import { ReadonlyVisitor } from '@nestjs/swagger/plugin';
import { PluginMetadataGenerator } from '@nestjs/cli/lib/compiler/plugins/plugin-metadata-generator.js';
import openapiTS, { astToString, type OpenAPI3 } from 'openapi-typescript';
import { pino } from 'pino';
import { AppModule } from '../src/app.module.js';
import { loadConfig } from '../src/config/config.js';
import { buildOpenApiDocument } from '../src/openapi.js';

const root = resolve(import.meta.dirname, '..');
const SDK_HEADER =
  '// Generated from openapi.json by `npm run openapi` (openapi-typescript). Do not edit: change the DTOs.\n';
const check = process.argv.includes('--check');

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => [k, sortKeys(v)]),
    );
  }
  return value;
}

function generateMetadata(outputDir: string): string {
  new PluginMetadataGenerator().generate({
    visitors: [
      new ReadonlyVisitor({
        introspectComments: true,
        classValidatorShim: true,
        esmCompatible: true,
        pathToSource: join(root, 'src'),
        dtoFileNameSuffix: ['.dto.ts'],
        controllerFileNameSuffix: ['.controller.ts'],
      }),
    ],
    outputDir,
    filename: 'metadata.ts',
    tsconfigPath: 'tsconfig.build.json',
    printDiagnostics: false,
  });
  return readFileSync(join(outputDir, 'metadata.ts'), 'utf8');
}

async function main(): Promise<number> {
  const metadataPath = join(root, 'src', 'metadata.ts');
  const scratch = mkdtempSync(join(tmpdir(), 'tenantry-openapi-'));
  let metadata: string;
  try {
    metadata = generateMetadata(scratch).replaceAll(join(root, 'src') + '/', './');
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const staleMetadata = !existsSync(metadataPath) || readFileSync(metadataPath, 'utf8') !== metadata;
  if (staleMetadata && !check) writeFileSync(metadataPath, metadata);

  const config = loadConfig(
    {
      NODE_ENV: 'test',
      DATA_DIR: join(tmpdir(), 'tenantry-openapi'),
      JWT_SECRET: 'x'.repeat(8) + 'openapi-preview-only-secret-value',
      TENANTRY_MASTER_KEY: Buffer.alloc(32, 1).toString('base64'),
      DATABASE_APP_PASSWORD: 'preview',
    },
    () => undefined,
  );
  const app = await NestFactory.create(
    AppModule.forRoot({
      config,
      databaseUrl: 'postgres://preview@127.0.0.1:1/preview',
      logger: pino({ level: 'silent' }),
    }),
    new FastifyAdapter(),
    { preview: true, abortOnError: false, logger: false },
  );
  const { default: loadMetadata } = (await import('../src/metadata.js')) as {
    default: () => Promise<Record<string, unknown>>;
  };
  await SwaggerModule.loadPluginMetadata(loadMetadata);
  const document = JSON.stringify(sortKeys(buildOpenApiDocument(app)), null, 2) + '\n';
  await app.close();

  const docPath = join(root, 'openapi.json');
  const staleDoc = !existsSync(docPath) || readFileSync(docPath, 'utf8') !== document;

  const sdkSchema = SDK_HEADER + astToString(await openapiTS(JSON.parse(document) as OpenAPI3));
  const sdkPath = join(root, 'sdk', 'src', 'schema.ts');
  const staleSdk = !existsSync(sdkPath) || readFileSync(sdkPath, 'utf8') !== sdkSchema;
  if (check) {
    const stale = [
      staleMetadata && 'src/metadata.ts',
      staleDoc && 'openapi.json',
      staleSdk && 'sdk/src/schema.ts',
    ].filter(Boolean);
    if (stale.length > 0) {
      process.stderr.write(`${stale.join(', ')} stale: run npm run openapi and commit the result\n`);
      return 1;
    }
    process.stdout.write('openapi.json, src/metadata.ts and sdk/src/schema.ts are up to date\n');
    return 0;
  }
  if (staleDoc) writeFileSync(docPath, document);
  if (staleSdk) writeFileSync(sdkPath, sdkSchema);
  process.stdout.write(
    `wrote openapi.json (${Object.keys((JSON.parse(document) as { paths: object }).paths).length} paths)\n`,
  );
  return 0;
}

process.exitCode = await main();
