import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261122000000_bootstrap } from './Migration20261122000000_bootstrap.js';
import { Migration20261122233201_identity } from './Migration20261122233201_identity.js';
import { Migration20261122235232_company_admin } from './Migration20261122235232_company_admin.js';
import { Migration20261122235303_machine_credentials } from './Migration20261122235303_machine_credentials.js';
import { Migration20261122235530_connectors } from './Migration20261122235530_connectors.js';
import { Migration20261122235818_drafts } from './Migration20261122235818_drafts.js';
import { Migration20261123003806_runs } from './Migration20261123003806_runs.js';
import { Migration20261123020000_lock_order } from './Migration20261123020000_lock_order.js';
import { Migration20261123030000_run_reads } from './Migration20261123030000_run_reads.js';
import { Migration20261206015926_mail_audit_export } from './Migration20261206015926_mail_audit_export.js';
import { Migration20261206020320_idempotency_sealed_response } from './Migration20261206020320_idempotency_sealed_response.js';
import { Migration20261206030019_run_summary_columns } from './Migration20261206030019_run_summary_columns.js';
import { Migration20261207030000_run_reads_company_setting } from './Migration20261207030000_run_reads_company_setting.js';
import { Migration20261207030759_wall_three } from './Migration20261207030759_wall_three.js';
import { Migration20261207033141_analytics_rollups } from './Migration20261207033141_analytics_rollups.js';
import { Migration20261207034312_wiki } from './Migration20261207034312_wiki.js';
import { Migration20261207034359_boards } from './Migration20261207034359_boards.js';
import { Migration20261207055320_credential_permissions } from './Migration20261207055320_credential_permissions.js';
import { Migration20261207055524_dlp } from './Migration20261207055524_dlp.js';
import { Migration20261207055540_groups } from './Migration20261207055540_groups.js';
import { Migration20261207055808_accounts } from './Migration20261207055808_accounts.js';
import { Migration20261207060000_user_rate_limits } from './Migration20261207060000_user_rate_limits.js';
import { Migration20261207061026_listings } from './Migration20261207061026_listings.js';
import { Migration20261207062044_mail_jobs } from './Migration20261207062044_mail_jobs.js';
import { Migration20261207062045_wall_three_references } from './Migration20261207062045_wall_three_references.js';
import { Migration20261207063104_operator_access } from './Migration20261207063104_operator_access.js';
import { Migration20261207064000_analytics_rollup_spans } from './Migration20261207064000_analytics_rollup_spans.js';
import { Migration20261207064500_wiki_search_leakproof } from './Migration20261207064500_wiki_search_leakproof.js';
import { Migration20261207070000_board_cards_read } from './Migration20261207070000_board_cards_read.js';
import { Migration20261207130000_rate_limit_batches } from './Migration20261207130000_rate_limit_batches.js';
import { Migration20261207133000_listings_withdrawn } from './Migration20261207133000_listings_withdrawn.js';
import { Migration20261207160000_wiki_search_bounded } from './Migration20261207160000_wiki_search_bounded.js';
import { Migration20261207183000_board_cards_json } from './Migration20261207183000_board_cards_json.js';
import { Migration20261207220000_board_cards_json_any_date } from './Migration20261207220000_board_cards_json_any_date.js';

/**
 * Every migration, in order. Listed statically so the compiled app, the tests and the CLI run the same set;
 * a test checks that every file in this folder is listed. Add a line here when you generate a migration.
 */
export const MIGRATIONS: MigrationObject[] = [
  { name: 'Migration20261122000000_bootstrap', class: Migration20261122000000_bootstrap },
  { name: 'Migration20261122233201_identity', class: Migration20261122233201_identity },
  { name: 'Migration20261122235232_company_admin', class: Migration20261122235232_company_admin },
  { name: 'Migration20261122235303_machine_credentials', class: Migration20261122235303_machine_credentials },
  { name: 'Migration20261122235530_connectors', class: Migration20261122235530_connectors },
  { name: 'Migration20261122235818_drafts', class: Migration20261122235818_drafts },
  { name: 'Migration20261123003806_runs', class: Migration20261123003806_runs },
  { name: 'Migration20261123020000_lock_order', class: Migration20261123020000_lock_order },
  { name: 'Migration20261123030000_run_reads', class: Migration20261123030000_run_reads },
  { name: 'Migration20261206015926_mail_audit_export', class: Migration20261206015926_mail_audit_export },
  {
    name: 'Migration20261206020320_idempotency_sealed_response',
    class: Migration20261206020320_idempotency_sealed_response,
  },
  { name: 'Migration20261206030019_run_summary_columns', class: Migration20261206030019_run_summary_columns },
  {
    name: 'Migration20261207030000_run_reads_company_setting',
    class: Migration20261207030000_run_reads_company_setting,
  },
  { name: 'Migration20261207030759_wall_three', class: Migration20261207030759_wall_three },
  { name: 'Migration20261207033141_analytics_rollups', class: Migration20261207033141_analytics_rollups },
  { name: 'Migration20261207034312_wiki', class: Migration20261207034312_wiki },
  { name: 'Migration20261207034359_boards', class: Migration20261207034359_boards },
  {
    name: 'Migration20261207055320_credential_permissions',
    class: Migration20261207055320_credential_permissions,
  },
  { name: 'Migration20261207055524_dlp', class: Migration20261207055524_dlp },
  { name: 'Migration20261207055540_groups', class: Migration20261207055540_groups },
  { name: 'Migration20261207055808_accounts', class: Migration20261207055808_accounts },
  { name: 'Migration20261207060000_user_rate_limits', class: Migration20261207060000_user_rate_limits },
  { name: 'Migration20261207061026_listings', class: Migration20261207061026_listings },
  { name: 'Migration20261207062044_mail_jobs', class: Migration20261207062044_mail_jobs },
  {
    name: 'Migration20261207062045_wall_three_references',
    class: Migration20261207062045_wall_three_references,
  },
  { name: 'Migration20261207063104_operator_access', class: Migration20261207063104_operator_access },
  {
    name: 'Migration20261207064000_analytics_rollup_spans',
    class: Migration20261207064000_analytics_rollup_spans,
  },
  {
    name: 'Migration20261207064500_wiki_search_leakproof',
    class: Migration20261207064500_wiki_search_leakproof,
  },
  { name: 'Migration20261207070000_board_cards_read', class: Migration20261207070000_board_cards_read },
  { name: 'Migration20261207130000_rate_limit_batches', class: Migration20261207130000_rate_limit_batches },
  { name: 'Migration20261207133000_listings_withdrawn', class: Migration20261207133000_listings_withdrawn },
  { name: 'Migration20261207160000_wiki_search_bounded', class: Migration20261207160000_wiki_search_bounded },
  { name: 'Migration20261207183000_board_cards_json', class: Migration20261207183000_board_cards_json },
  {
    name: 'Migration20261207220000_board_cards_json_any_date',
    class: Migration20261207220000_board_cards_json_any_date,
  },
];
