import { pino, type Logger } from 'pino';

/**
 * The logger wsgate builds when it is given none: pino JSON on stdout, written synchronously.
 * Sync on purpose: pino's asynchronous default flushes at exit through sonic-boom's `flushSync`,
 * which retries a broken pipe (EPIPE) forever, so a gateway whose log reader died (a crashed
 * log shipper, a closed pipe) could never finish its drain. With sync writes the EPIPE surfaces on
 * the write itself, pino stops logging, and a `fatal` line is out before `process.exit`.
 * The volume is low: per-connection events log at debug.
 */
export function createLogger(level: string, base?: Record<string, unknown>): Logger {
  return pino({ level, ...(base ? { base } : {}) }, pino.destination({ dest: 1, sync: true }));
}
