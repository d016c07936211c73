import type { Gateway } from '../src/gateway.js';
import { systemClock } from '../src/time/clock.js';

/** What the signal handlers drive: a gateway's public drain and TLS reload. */
export type SignalHost = Pick<Gateway, 'options' | 'logger' | 'drain' | 'reloadTls'>;

/** Exit status after a second stop signal: the shell's 128 + signal number. */
const FORCED_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };
/** Slack past `drain_timeout` for closing the server before the watchdog gives up. */
const WATCHDOG_SLACK_MS = 3000;

/**
 * The process's operating signals: SIGTERM/SIGINT drain (exit 0 when done; a second one exits at
 * once), SIGHUP reloads the TLS certificate. Returns a function that removes the handlers.
 */
export function installSignalHandlers(host: SignalHost, exit: (code: number) => void = (code) => process.exit(code)): () => void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      host.logger.warn({ signal }, 'second stop signal: exiting without finishing the drain');
      exit(FORCED_EXIT[signal] ?? 1);
      return;
    }
    stopping = true;
    host.logger.info({ signal, timeoutMs: host.options.drainTimeoutMs }, 'stop signal: draining');
    // Drain is bounded by drain_timeout itself; this only catches a close that hangs.
    // The system clock's timers are unref'd: the watchdog never holds the process open by itself.
    systemClock.setTimeout(() => {
      host.logger.error('drain did not finish in time; exiting');
      exit(1);
    }, host.options.drainTimeoutMs + WATCHDOG_SLACK_MS);
    host.drain().then(
      () => exit(0),
      (err: unknown) => {
        host.logger.error({ err }, 'drain failed');
        exit(1);
      },
    );
  };
  // Without a handler, SIGHUP would kill the process: reload instead (a no-op without TLS).
  const hup = (): void => void host.reloadTls();
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('SIGHUP', hup);
  return () => {
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
    process.off('SIGHUP', hup);
  };
}
