import { hostileJson } from '../common/json-body.js';

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const INVALID_REQUEST = -32600;
const INVALID_PARAMS = -32602;

const error = (id: unknown, code: number, message: string) => ({
  jsonrpc: '2.0' as const,
  id: typeof id === 'string' || typeof id === 'number' ? id : null,
  error: { code, message },
});

/**
 * The JSON-RPC answer to a message the MCP SDK must not read, or null when it may: `tools/call` with `params` or
 * `arguments` that are not objects is invalid params (-32602); arguments holding a prototype key (`__proto__`,
 * `constructor`, `prototype`) or a NUL character are a tool error naming the argument (as a route's validation
 * would be); such keys or NULs anywhere else in a message are invalid params, and in a batch an invalid request.
 * A batch of more than one message is an invalid request.
 * The JSON parser leaves them in place for `/mcp` (as plain own properties) so that they are refused here.
 */
export function screenMessage(body: unknown): object | null {
  if (Array.isArray(body)) {
    // One message per request, so that each tool call is one counted request (rate limits, write slots): a batch
    // would run many calls for one count. MCP 2025-06-18 dropped JSON-RPC batching; a batch of one is its message.
    if (body.length > 1) {
      return error(
        null,
        INVALID_REQUEST,
        'Invalid Request: batches are not supported; send each message in a request of its own',
      );
    }
    const bad = body.some((m) => screenMessage(m) !== null);
    return bad ? error(null, INVALID_REQUEST, 'Invalid Request: a message of the batch is refused') : null;
  }
  if (!isObject(body)) return null; // the SDK answers a malformed message itself
  const id = body.id;
  if (body.method === 'tools/call') {
    const params = body.params;
    if (!isObject(params)) return error(id, INVALID_PARAMS, 'Invalid params: params must be an object');
    const args = params.arguments;
    if (args !== undefined && !isObject(args)) {
      return error(id, INVALID_PARAMS, 'Invalid params: arguments must be an object');
    }
    const { arguments: _arguments, ...rest } = params;
    void _arguments;
    const elsewhere = hostileJson({ ...body, params: rest });
    if (elsewhere)
      return error(id, INVALID_PARAMS, `Invalid params: ${elsewhere.field}: ${elsewhere.message}`);
    const inArguments = hostileJson(args);
    if (inArguments) {
      return {
        jsonrpc: '2.0',
        id: typeof id === 'string' || typeof id === 'number' ? id : null,
        result: {
          isError: true,
          content: [
            { type: 'text', text: `VALIDATION_FAILED: ${inArguments.field}: ${inArguments.message}` },
          ],
        },
      };
    }
    return null;
  }
  const hostile = hostileJson(body);
  return hostile ? error(id, INVALID_PARAMS, `Invalid params: ${hostile.field}: ${hostile.message}`) : null;
}
