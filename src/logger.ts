import { pino, type DestinationStream, type Logger } from 'pino';

/**
 * Fields that may hold a secret wherever they appear in a log record, top level or one object
 * down (`{hello: {token}}`, `{req: {headers: {authorization}}}`): pino replaces them with
 * `[Redacted]`. A log line is read by more people than the key holders (docs/security.md).
 */
export const REDACT_PATHS: readonly string[] = [
  'token', 'password', 'secret', 'apiKey', 'jwtSecret', 'resume_token', 'resumeToken', 'authorization', 'cookie',
].flatMap((k) => [k, `*.${k}`]).concat([
  'headers.authorization', 'headers.cookie', '*.headers.authorization', '*.headers.cookie',
  'headers["sec-websocket-protocol"]', '*.headers["sec-websocket-protocol"]', 'headers["x-wsgate-key"]', '*.headers["x-wsgate-key"]',
]);

/**
 * The logger wsgate builds when it is given none: pino JSON on stdout, written synchronously.
 * Sync on purpose: pino's asynchronous default flushes at exit through sonic-boom's `flushSync`,
 * which retries a broken pipe (EPIPE) forever, so a gateway whose log reader died (a crashed
 * log shipper, a closed pipe) could never finish its drain. With sync writes the EPIPE surfaces on
 * the write itself, pino stops logging, and a `fatal` line is out before `process.exit`.
 * The volume is low: per-connection events log at debug. `dest` is for tests (default stdout).
 */
export function createLogger(level: string, base?: Record<string, unknown>, dest?: DestinationStream): Logger {
  const options = { level, redact: { paths: [...REDACT_PATHS] }, ...(base ? { base } : {}) };
  return pino(options, dest ?? pino.destination({ dest: 1, sync: true }));
}
