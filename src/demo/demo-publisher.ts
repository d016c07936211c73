import type { StreamPosition } from '../protocol/events.js';

/** The services whose fake log tails the demo publishes, one channel each: `logs:<service>`. */
export const DEMO_SERVICES = ['api', 'auth', 'billing', 'worker'] as const;

/**
 * Line templates per service. Each takes a running number `n` (per service) so no two lines are the same text:
 * with fixed lines picked at random, the same "invoice … issued" could appear at two consecutive offsets and
 * read as a duplicate on a page whose point is that nothing is duplicated.
 */
const LINES: Record<(typeof DEMO_SERVICES)[number], ((n: number) => string)[]> = {
  api: [
    (n) => `GET /v1/orders/${4100 + n} 200 ${8 + (n % 9)}ms`,
    (n) => `POST /v1/orders 201 ${40 + (n % 13)}ms order=${4100 + n}`,
    (n) => `GET /v1/users/u_${1800 + n} 200 ${5 + (n % 4)}ms`,
    (n) => `GET /v1/search?q=lamp&page=${n} 200 ${80 + (n % 30)}ms`,
    (n) => `PATCH /v1/cart/c_${700 + n} 409 ${3 + (n % 3)}ms`,
  ],
  auth: [
    (n) => `login ok user=u_${1800 + n}`,
    (n) => `token refreshed user=u_${300 + n}`,
    (n) => `login failed user=u_${7700 + n} reason=bad_password`,
    (n) => `mfa challenge sent user=u_${1800 + n}`,
    (n) => `session revoked user=u_${90 + n}`,
  ],
  billing: [
    (n) => `invoice inv_${5500 + n} issued €${(20 + ((n * 7) % 80)).toFixed(2)}`,
    (n) => `charge ch_${8800 + n} succeeded`,
    (n) => `charge ch_${8800 + n} declined card_expired`,
    (n) => `refund rf_${140 + n} created €${(5 + ((n * 3) % 20)).toFixed(2)}`,
    (n) => `webhook payment_intent.succeeded evt_${3300 + n}`,
  ],
  worker: [
    (n) => `job resize-image#${4400 + n} done ${200 + ((n * 37) % 300)}ms`,
    (n) => `job send-email#${9000 + n} queued`,
    (n) => `job send-email#${9000 + n} done ${60 + (n % 50)}ms`,
    (n) => `job export-csv#${100 + n} progress ${(n * 10) % 100}%`,
    (n) => `queue depth ${(n * 7) % 40}`,
  ],
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
  const counts = new Map<string, number>();
  const timer = setInterval(() => {
    const service = DEMO_SERVICES[Math.floor(Math.random() * DEMO_SERVICES.length)]!;
    const lines = LINES[service];
    const k = (counts.get(service) ?? 0) + 1;
    counts.set(service, k);
    const line: DemoLogLine = {
      service,
      level: LEVELS[n++ % LEVELS.length]!,
      text: lines[Math.floor(Math.random() * lines.length)]!(k),
      at: new Date().toISOString(),
    };
    // A failed publish (broker closing during shutdown) only loses one fake line.
    publish(`logs:${service}`, line).catch(() => undefined);
  }, periodMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
