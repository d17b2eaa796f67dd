import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { NestPinoLogger } from './logger.js';

function capture(level: 'info' | 'debug') {
  const lines: { level: number; msg: string; context?: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as { level: number; msg: string; context?: string });
      done();
    },
  });
  return { logger: new NestPinoLogger(pino({ level }, sink)), lines };
}

describe('NestPinoLogger', () => {
  it('writes module and route wiring at debug, and other framework lines at info', () => {
    const { logger, lines } = capture('info');
    logger.log('AppModule dependencies initialized', 'InstanceLoader');
    logger.log('Mapped {/v1/runs, POST} route', 'RouterExplorer');
    logger.log('RunsController {/v1/runs}:', 'RoutesResolver');
    logger.log('worker started', 'RunWorker');
    expect(lines.map((l) => l.msg)).toEqual(['worker started']);

    const verbose = capture('debug');
    verbose.logger.log('Mapped {/v1/runs, POST} route', 'RouterExplorer');
    expect(verbose.lines).toHaveLength(1);
    expect(verbose.lines[0]).toMatchObject({ level: 20, context: 'RouterExplorer' });
  });
});
