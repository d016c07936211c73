import type { Gateway } from '../../src/index.js';

/** One HTTP answer, body parsed as JSON when it is JSON. */
export interface ApiAnswer {
  status: number;
  headers: Headers;
  body: unknown;
}

/** Call the gateway's HTTP API with real HTTP (fetch). `body` is sent as JSON unless it is a string. */
export async function api(gw: Gateway | string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiAnswer> {
  const url = typeof gw === 'string' ? `${gw}${path}` : gw.url(path);
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] = 'application/json';
  }
  const res = await fetch(url, init);
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON (e.g. /metrics): keep the text
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

/** Scrape `/metrics` and read one sample: `metric(text, 'wsgate_closes_total', {code: '4003'})`. 0 when absent. */
export function metric(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[3] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[4]);
  }
  return 0;
}

/** Poll `check` every 20 ms until it is truthy or `ms` pass. */
export async function until<T>(check: () => T | Promise<T>, ms = 3000, what = 'condition'): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
