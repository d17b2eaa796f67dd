import { inject } from 'vitest';
import type { CliContext } from '../../src/cli/command.js';
import type { AppConfig } from '../../src/config/config.js';

/**
 * The context of a CLI command run in-process against the run's database (its owner URL), with `config`: output
 * lines go to `out`, error lines to `err` (by default `out` too).
 */
export function cliContext(config: AppConfig, out: string[] = [], err: string[] = out): CliContext {
  return {
    config,
    ownerUrl: () => Promise.resolve(inject('ownerUrl')),
    out: (line) => out.push(line),
    err: (line) => err.push(line),
  };
}
