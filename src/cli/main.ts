import 'reflect-metadata';
import { ConfigError, loadConfig } from '../config/config.js';
import { resolveDatabase } from '../database/database-urls.js';
import type { EmbeddedDatabase } from '../database/embedded.js';
import type { CliContext } from './command.js';
import { COMMANDS } from './commands/index.js';

/** `npm run cli -- <command> [args]`: operations that are never exposed over HTTP. */
async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(
      `Usage: npm run cli -- <command>\n\n${COMMANDS.map((c) => `  ${c.usage.padEnd(40)} ${c.description}`).join('\n')}\n`,
    );
    return name ? 2 : 0;
  }
  let embedded: EmbeddedDatabase | undefined;
  try {
    const config = loadConfig();
    let ownerUrl: string | undefined;
    const ctx: CliContext = {
      config,
      ownerUrl: async () => {
        if (!ownerUrl) {
          const db = await resolveDatabase(config, (m) => process.stderr.write(`${m}\n`));
          embedded = db.embedded;
          ownerUrl = db.ownerUrl;
        }
        return ownerUrl;
      },
      out: (line) => process.stdout.write(`${line}\n`),
      err: (line) => process.stderr.write(`${line}\n`),
    };
    return await command.run(args, ctx);
  } catch (e) {
    process.stderr.write(
      `${e instanceof ConfigError ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
    );
    return 1;
  } finally {
    await embedded?.stop();
  }
}

process.exitCode = await main(process.argv.slice(2));
