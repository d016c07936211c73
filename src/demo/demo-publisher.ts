import type { StreamPosition } from '../protocol/events.js';

/** The services whose fake log tails the demo publishes, one channel each: `logs:<service>`. */
export const DEMO_SERVICES = ['api', 'auth', 'billing', 'worker'] as const;

const LINES: Record<(typeof DEMO_SERVICES)[number], string[]> = {
  api: ['GET /v1/orders 200 12ms', 'POST /v1/orders 201 48ms', 'GET /v1/users/me 200 6ms', 'GET /v1/search?q=lamp 200 93ms', 'PATCH /v1/cart 409 4ms'],
  auth: ['login ok user=u_1842', 'token refreshed user=u_0331', 'login failed user=u_7710 reason=bad_password', 'mfa challenge sent user=u_1842', 'session revoked user=u_0093'],
  billing: ['invoice inv_5521 issued €42.00', 'charge ch_8812 succeeded', 'charge ch_8813 declined card_expired', 'refund rf_0142 created €9.90', 'webhook payment_intent.succeeded'],
  worker: ['job resize-image#4411 done 310ms', 'job send-email#9021 queued', 'job send-email#9020 done 85ms', 'job export-csv#112 progress 40%', 'queue depth 17'],
};

const LEVELS = ['INFO', 'INFO', 'INFO', 'DEBUG', 'WARN'];

/** One fake log record. */
export interface DemoLogLine {
  service: string;
  level: string;
  text: string;
  at: string;
}

/**
 * Publish a fake log line to one of the `logs:*` channels every `periodMs` (default 300 ms),
 * picking the service at random. Returns `stop()`. Timers are unref'd: the demo never keeps a process alive.
 */
export function startDemoPublisher(publish: (channel: string, data: DemoLogLine) => Promise<StreamPosition>, periodMs = 300): { stop(): void } {
  let n = 0;
  const timer = setInterval(() => {
    const service = DEMO_SERVICES[Math.floor(Math.random() * DEMO_SERVICES.length)]!;
    const lines = LINES[service];
    const line: DemoLogLine = {
      service,
      level: LEVELS[n++ % LEVELS.length]!,
      text: lines[Math.floor(Math.random() * lines.length)]!,
      at: new Date().toISOString(),
    };
    // A failed publish (broker closing during shutdown) only loses one fake line.
    publish(`logs:${service}`, line).catch(() => undefined);
  }, periodMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
