import { CloseCode } from '../protocol/codes.js';

/**
 * The close code `ws` sends when it refuses a frame itself, by its error code. `ws` closes the socket with
 * this code, but its own `close` event then reports 1006 (no close frame came back from a peer that broke
 * the protocol), so the connection reads the code from the error that started it.
 */
const WS_ERROR_CLOSE_CODES: Readonly<Record<string, number>> = {
  WS_ERR_INVALID_UTF8: CloseCode.InvalidUtf8,
  WS_ERR_UNSUPPORTED_MESSAGE_LENGTH: CloseCode.TooBig,
  WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH: CloseCode.TooBig,
  WS_ERR_TOO_MANY_BUFFERED_PARTS: CloseCode.Policy,
  WS_ERR_INVALID_OPCODE: CloseCode.FrameError,
  WS_ERR_EXPECTED_FIN: CloseCode.FrameError,
  WS_ERR_EXPECTED_MASK: CloseCode.FrameError,
  WS_ERR_UNEXPECTED_MASK: CloseCode.FrameError,
  WS_ERR_UNEXPECTED_RSV_1: CloseCode.FrameError,
  WS_ERR_UNEXPECTED_RSV_2_3: CloseCode.FrameError,
  WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH: CloseCode.FrameError,
  WS_ERR_INVALID_CLOSE_CODE: CloseCode.FrameError,
};

/** The close code `ws` started because of `err`, or undefined when `err` is not a refused frame (e.g. ECONNRESET). */
export function wsErrorCloseCode(err: Error): number | undefined {
  const code = (err as Error & { code?: unknown }).code;
  if (typeof code !== 'string' || !code.startsWith('WS_ERR_')) return undefined;
  return WS_ERROR_CLOSE_CODES[code] ?? statusSymbol(err) ?? CloseCode.FrameError;
}

/** `ws` also keeps the code under a private symbol; read it for an error code this table does not know yet. */
function statusSymbol(err: Error): number | undefined {
  const sym = Object.getOwnPropertySymbols(err).find((s) => s.description === 'status-code');
  const value = sym === undefined ? undefined : (err as unknown as Record<symbol, unknown>)[sym];
  return typeof value === 'number' ? value : undefined;
}
