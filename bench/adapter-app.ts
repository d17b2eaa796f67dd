/**
 * The server of `npm run bench:adapters` (bench/adapters.ts starts it): a minimal NestJS 12 application on the
 * HTTP adapter named by ADAPTER (`fastify` or `express`), with the same two routes either way, so the adapter is
 * the only difference:
 *
 * - `GET /live`: a constant JSON body (framework and adapter overhead only);
 * - `GET /runs`: the newest 20 runs of one company through `pg` (one indexed query, rows as JSON).
 *
 * Environment: ADAPTER, PORT, DATABASE_URL (the benchmark data set), COMPANY_ID.
 */
import 'reflect-metadata';
import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import pg from 'pg';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
const company = process.env.COMPANY_ID ?? '';

@Controller()
class BenchController {
  @Get('live')
  live(): { status: string } {
    return { status: 'ok' };
  }

  @Get('runs')
  async runs(): Promise<{ data: unknown[] }> {
    const { rows } = await pool.query({
      name: 'newest_runs',
      text: `select id, status, template_key as "templateKey", created_at as "createdAt" from runs
             where company_id = $1 order by id desc limit 20`,
      values: [company],
    });
    return { data: rows };
  }
}

@Module({ controllers: [BenchController] })
class BenchModule {}

const port = Number(process.env.PORT ?? 3110);
const app: INestApplication =
  process.env.ADAPTER === 'express'
    ? await NestFactory.create(BenchModule, new ExpressAdapter(), { logger: false })
    : await NestFactory.create(BenchModule, new FastifyAdapter(), { logger: false });
await app.listen(port, '127.0.0.1');
process.once('SIGTERM', () => {
  void app.close().then(() => pool.end());
});
