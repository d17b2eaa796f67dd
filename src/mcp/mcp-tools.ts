/**
 * The MCP tools: each mirrors one HTTP route and has no logic of its own beyond mapping its arguments onto that
 * route's path parameters, query and body (its input schema is generated from the same DTOs, through the OpenAPI
 * document). A tool whose route the application does not have (a feature not installed) is not offered.
 */
export interface ToolSpec {
  name: string;
  description: string;
  /** `METHOD /path/{param}` of the mirrored route. */
  route: string;
  /** Query parameters the tool fixes (not offered as arguments). */
  fixedQuery?: Record<string, string>;
  /** The route requires `If-Match`: the tool takes it as the `ifMatch` argument (the version from an earlier read). */
  ifMatch?: boolean;
}

export const TOOLS: readonly ToolSpec[] = [
  { name: 'list_templates', route: 'GET /v1/templates', description: 'List the governed template catalog' },
  {
    name: 'get_template',
    route: 'GET /v1/templates/{id}',
    description: 'One catalog template with its steps',
  },
  {
    name: 'start_run',
    route: 'POST /v1/runs',
    description: 'Start a run of a catalog template or of a published draft version, with its input',
  },
  { name: 'list_runs', route: 'GET /v1/runs', description: "List the company's runs, newest first" },
  {
    name: 'get_run',
    route: 'GET /v1/runs/{id}',
    description: 'One run: status, steps, and where it is parked',
  },
  {
    name: 'list_parked_runs',
    route: 'GET /v1/runs',
    fixedQuery: { status: 'parked' },
    description: 'List the runs parked waiting for a human verdict',
  },
  {
    name: 'give_verdict',
    route: 'POST /v1/runs/{id}/verdict',
    description: 'Approve or reject a parked run (four-eyes: not a run you started)',
  },
  { name: 'cancel_run', route: 'POST /v1/runs/{id}/cancel', description: 'Cancel a run' },
  {
    name: 'list_connectors',
    route: 'GET /v1/connectors',
    description: "List the company's connectors (secrets are never shown)",
  },
  {
    name: 'search_wiki',
    route: 'GET /v1/wiki/search',
    description: "Full-text search over the company's wiki",
  },
  { name: 'get_wiki_page', route: 'GET /v1/wiki/pages/{id}', description: 'One wiki page (Markdown)' },
  {
    name: 'list_cards',
    route: 'GET /v1/boards/{id}/cards',
    description: 'The cards of a board, in board order',
  },
  { name: 'create_card', route: 'POST /v1/boards/{id}/cards', description: 'Create a card on a board' },
  {
    name: 'move_card',
    route: 'POST /v1/cards/{id}/move',
    ifMatch: true,
    description: 'Move a card to a column and position (ifMatch: the card version from its last read)',
  },
  {
    name: 'get_usage',
    route: 'GET /v1/analytics/usage',
    description: "This month's usage: runs against the budget, runs in flight, members, keys",
  },
];
