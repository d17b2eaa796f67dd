import type { AppConfig } from '../config/config.js';

export interface CliContext {
  config: AppConfig;
  /** Owner URL (embedded database started when DATABASE_URL is unset). */
  ownerUrl: () => Promise<string>;
  out: (line: string) => void;
  err: (line: string) => void;
}

/** One `npm run cli -- <name> …` command. Returns the process exit code. */
export interface CliCommand {
  name: string;
  usage: string;
  description: string;
  run(args: string[], ctx: CliContext): Promise<number>;
}
