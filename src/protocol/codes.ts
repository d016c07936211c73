/**
 * Every close code and error code of the wire protocol, in one place (docs/protocol.md §6, §8).
 *
 * Ranges:
 * - 1000–1015: RFC 6455. 1005, 1006 and 1015 are reserved and never sent on the wire.
 * - 4000–4099: terminal — the session ends with the connection; the client should stop.
 * - 4100–4199: transient — the session stays resumable; the client should reconnect and resume.
 */
export const CloseCode = {
  /** Client or server ends normally; the session ends. */
  Normal: 1000,
  /** Endpoint going away (e.g. browser tab closed); the session stays resumable. */
  GoingAway: 1001,
  /** A frame that breaks RFC 6455 (bad opcode, mask, control frame, close code); sent by `ws` itself. */
  FrameError: 1002,
  /** A binary frame was received. */
  Unsupported: 1003,
  /** A text frame that is not valid UTF-8; sent by `ws` itself. */
  InvalidUtf8: 1007,
  /** Policy: too many errors, or a refused origin. */
  Policy: 1008,
  /** A frame larger than `max_payload`. */
  TooBig: 1009,
  /** Internal error in the server. */
  InternalError: 1011,
  /** Service restart (drain): reconnect at once with jitter and resume. */
  ServiceRestart: 1012,
  /** Try again later: a hello while the gateway's shared store (Redis) is unreachable. Reconnect with backoff. */
  TryAgainLater: 1013,
  /** Bad gateway: used by the legacy adapter when its upstream vanished without a close frame. */
  BadGateway: 1014,
  /** Bad or second hello, or a message before hello. */
  ProtocolError: 4000,
  /** The hello's credentials were refused. */
  Unauthorized: 4001,
  /** Another connection resumed this session. */
  Replaced: 4002,
  /** Ended by the backend (DELETE /api/sessions/{id}). */
  Kicked: 4003,
  /** No client message within `heartbeat_timeout`. */
  HeartbeatTimeout: 4100,
  /** No `client/hello` within `hello_timeout`. */
  HelloTimeout: 4101,
  /** The send buffer grew past `max_buffered`. */
  SlowConsumer: 4102,
  /** Too many messages per second. */
  RateLimited: 4103,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** The `reason` string sent with each close code (also `system/disconnect.reason`). */
export const CloseReason: Record<number, string> = {
  1000: 'normal',
  1001: 'going_away',
  1002: 'protocol_error',
  1003: 'unsupported_data',
  1007: 'invalid_payload',
  1008: 'policy_violation',
  1009: 'message_too_big',
  1011: 'internal_error',
  1012: 'service_restart',
  1013: 'try_again_later',
  1014: 'upstream_lost',
  4000: 'protocol_error',
  4001: 'unauthorized',
  4002: 'replaced',
  4003: 'kicked',
  4100: 'heartbeat_timeout',
  4101: 'hello_timeout',
  4102: 'slow_consumer',
  4103: 'rate_limited',
};

/** Codes that must never appear in a close frame (RFC 6455 §7.4.1). */
export const RESERVED_CLOSE_CODES: ReadonlySet<number> = new Set([1005, 1006, 1015]);

/** May `code` appear in a close frame (RFC 6455 §7.4)? 1000–1014 except 1004–1006, and 3000–4999. */
export function sendableCloseCode(code: number): boolean {
  if (!Number.isInteger(code)) return false;
  return (code >= 1000 && code <= 1014 && code !== 1004 && !RESERVED_CLOSE_CODES.has(code)) || (code >= 3000 && code <= 4999);
}

/**
 * The code to put in a close frame for `code`: itself when it may be sent, else 1011. The one
 * sanitiser of the gateway and the legacy adapter (ws throws on a code it may not send).
 */
export function wireCloseCode(code: number): number {
  return sendableCloseCode(code) ? code : CloseCode.InternalError;
}

/**
 * Does a connection that ended with `code` end its session (docs/protocol.md §4.2)?
 * `byServer` tells who started the close. Everything else keeps the session for `session_ttl`.
 */
export function closeEndsSession(code: number, byServer: boolean): boolean {
  if (byServer) return TERMINAL_RFC_CODES.has(code) || (code >= 4000 && code <= 4099);
  return code === 1000;
}

/**
 * RFC 6455 codes after which a client should stop: the peer broke the protocol (1002 frame error, 1003 binary,
 * 1007 bad UTF-8, 1008 policy, 1009 too big) or closed normally. A retry would only repeat the fault.
 */
const TERMINAL_RFC_CODES: ReadonlySet<number> = new Set([1000, 1002, 1003, 1007, 1008, 1009]);

/** What a client should do after a close with `code` (docs/protocol.md §6). */
export type CloseClass = 'stop' | 'reconnect-now' | 'reconnect' | 'reconnect-slow';

/** Classify a close code for a client's reconnect policy. Unknown and abnormal codes reconnect. */
export function closeClass(code: number): CloseClass {
  if (TERMINAL_RFC_CODES.has(code)) return 'stop';
  if (code >= 4000 && code <= 4099) return 'stop';
  if (code === 1012) return 'reconnect-now';
  if (code === 4103) return 'reconnect-slow';
  return 'reconnect';
}

/** `system/error.code` values. */
export const ErrorCode = {
  BadMessage: 'bad_message',
  UnknownEvent: 'unknown_event',
  BadChannel: 'bad_channel',
  Forbidden: 'forbidden',
  UnknownSession: 'unknown_session',
  RateLimited: 'rate_limited',
  TooManySubscriptions: 'too_many_subscriptions',
  Internal: 'internal',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Error codes that count against `max_errors` (malformed or unknown input). */
export const COUNTED_ERROR_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([ErrorCode.BadMessage, ErrorCode.UnknownEvent]);

/** `system/init.resume_error` values. */
export type ResumeError = 'unknown_session' | 'bad_token' | 'expired' | 'gap';
