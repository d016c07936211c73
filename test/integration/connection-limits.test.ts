import WebSocket from 'ws';
import { mountLegacyAdapter, type LegacyAdapter } from '../../legacy-adapter/index.js';
import type { Gateway, GatewayInit } from '../../src/index.js';
import { startGateway } from '../support/gateway.js';
import { until } from '../support/http-api.js';

const open: WebSocket[] = [];
let gw: Gateway | undefined;
afterEach(async () => {
  for (const ws of open.splice(0)) ws.terminate();
  await gw?.close();
  gw = undefined;
});

/** Try an upgrade to /api/ws; resolves with 101 (then the socket stays open) or the refusal's status. */
function upgrade(g: Gateway, opts: { localAddress?: string; forwardedFor?: string } = {}): Promise<number> {
  return new Promise((resolve) => {
    const headers = opts.forwardedFor ? { 'x-forwarded-for': opts.forwardedFor } : undefined;
    const ws = new WebSocket(g.url('/api/ws'), { localAddress: opts.localAddress, headers });
    open.push(ws);
    ws.once('open', () => resolve(101));
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('error', () => resolve(-1));
  });
}

async function gateway(init: GatewayInit): Promise<Gateway> {
  gw = await startGateway({ heartbeatInterval: 0, pingInterval: 0, ...init });
  return gw;
}

describe('connection limits are enforced before the upgrade', () => {
  test('--max-connections: over it → 503; a closed connection frees its place', async () => {
    const g = await gateway({ maxConnections: 2, maxConnectionsPerIp: 0 });
    expect(await upgrade(g)).toBe(101);
    expect(await upgrade(g)).toBe(101);
    expect(await upgrade(g)).toBe(503);
    open[0]!.close(1000);
    await until(async () => (await upgrade(g)) === 101, 3000, 'a place after a close');
  });

  test('--max-connections-per-ip: the third connection of one address → 429, another address still gets in', async () => {
    const g = await gateway({ maxConnectionsPerIp: 2 });
    expect(await upgrade(g, { localAddress: '127.0.0.2' })).toBe(101);
    expect(await upgrade(g, { localAddress: '127.0.0.2' })).toBe(101);
    expect(await upgrade(g, { localAddress: '127.0.0.2' })).toBe(429);
    expect(await upgrade(g, { localAddress: '127.0.0.3' })).toBe(101);
  });

  test('X-Forwarded-For names the client only when the peer is a trusted proxy', async () => {
    // Loopback is trusted by default: behind a local nginx each client is counted by its own address.
    const g = await gateway({ maxConnectionsPerIp: 1 });
    expect(await upgrade(g, { forwardedFor: '203.0.113.7' })).toBe(101);
    expect(await upgrade(g, { forwardedFor: '203.0.113.7' })).toBe(429);
    expect(await upgrade(g, { forwardedFor: '203.0.113.8' })).toBe(101);
    // A client cannot escape its count by prepending addresses: the rightmost untrusted entry is the one.
    expect(await upgrade(g, { forwardedFor: '198.51.100.1, 203.0.113.7' })).toBe(429);
    // A garbage entry stops the walk at the proxy's own address.
    expect(await upgrade(g, { forwardedFor: 'not-an-address' })).toBe(101);
    expect(await upgrade(g, { forwardedFor: '[::1]:80' })).toBe(429);
  });

  test('with --trust-proxy none, X-Forwarded-For is ignored', async () => {
    const g = await gateway({ maxConnectionsPerIp: 1, trustProxy: ['none'] });
    expect(await upgrade(g, { forwardedFor: '203.0.113.7' })).toBe(101);
    expect(await upgrade(g, { forwardedFor: '203.0.113.8' })).toBe(429);
  });

  test('--max-pending-hellos: connections that have not said hello are bounded; a hello frees a place', async () => {
    const g = await gateway({ maxPendingHellos: 2 });
    expect(await upgrade(g)).toBe(101);
    expect(await upgrade(g)).toBe(101);
    expect(await upgrade(g)).toBe(503);
    const init = new Promise((resolve) => open[0]!.once('message', resolve));
    open[0]!.send(JSON.stringify({ event: 'client/hello', payload: {} }));
    await init;
    expect(await upgrade(g)).toBe(101);
  });

  test('a v2 client counts under its own address twice (its leg and the adapter\'s upstream), not under loopback', async () => {
    const g = await gateway({ maxConnectionsPerIp: 4 });
    const adapter: LegacyAdapter = mountLegacyAdapter(g);
    try {
      const v2 = (from: string): Promise<string> =>
        new Promise((resolve) => {
          const ws = new WebSocket(g.url('/ws?username=u&password=p'), { localAddress: from });
          open.push(ws);
          ws.on('message', (d) => {
            if (String(d).includes('system/init')) resolve('init');
          });
          ws.once('unexpected-response', (_r, res) => resolve(String(res.statusCode)));
          ws.once('close', (code) => resolve(`close ${code}`));
        });
      expect(await v2('127.0.0.2')).toBe('init');
      expect(await v2('127.0.0.2')).toBe('init');
      // Four connections under 127.0.0.2 now: one more from it is refused, another address is not.
      expect(await upgrade(g, { localAddress: '127.0.0.2' })).toBe(429);
      expect(await upgrade(g, { localAddress: '127.0.0.3' })).toBe(101);
      expect(await v2('127.0.0.3')).toBe('init');
    } finally {
      await adapter.close();
    }
  });

  test('an SSE stream counts like an upgrade: over the address\'s share → 429, and its place is freed when it ends', async () => {
    const g = await gateway({ maxConnectionsPerIp: 1, sse: true });
    const stream = async (): Promise<{ status: number; abort: AbortController }> => {
      const { ticket } = (await (await fetch(g.url('/api/sse'), { method: 'POST' })).json()) as { ticket: string };
      const abort = new AbortController();
      const res = await fetch(g.url(`/api/sse/stream?ticket=${ticket}`), { signal: abort.signal });
      if (res.status !== 200) abort.abort();
      return { status: res.status, abort };
    };
    const first = await stream();
    expect(first.status).toBe(200);
    expect((await stream()).status).toBe(429);
    expect(await upgrade(g)).toBe(429);
    first.abort.abort();
    await until(async () => (await upgrade(g)) === 101, 3000, 'the stream\'s place to be freed');
  });
});
