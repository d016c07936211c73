/** The SSE transport's wire names, shared by the gateway and the client SDK (docs/protocol.md §11). */

/** Where the SSE transport lives: `POST` opens, `/stream` is the event stream, `/send` and `/close` take the client's side. */
export const SSE_PATH = '/api/sse';
/** The header that names an SSE connection on the client's POSTs (never the URL). */
export const SSE_KEY_HEADER = 'x-wsgate-key';
