import type { CliCommand } from '../command.js';
import { accountCommand } from './account.command.js';
import { analyticsCommand } from './analytics.command.js';
import { companiesCommand } from './companies.command.js';
import { auditCommand } from './audit.command.js';
import { migrateCheckCommand, migrateCommand } from './migrate.command.js';
import { masterKeyCommand } from './master-key.command.js';
import { operatorCommand } from './operator.command.js';
import { platformAdminCommand } from './platform-admin.command.js';

/** Every CLI command. Add new ones here. */
export const COMMANDS: CliCommand[] = [
  migrateCommand,
  migrateCheckCommand,
  platformAdminCommand,
  masterKeyCommand,
  companiesCommand,
  auditCommand,
  analyticsCommand,
  accountCommand,
  operatorCommand,
];
