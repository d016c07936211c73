/**
 * The adapter as its own process in front of a gateway (`wsgate legacy …`), run in-process through
 * runLegacyCli / startLegacyServer, with a TCP relay between adapter and gateway to kill the upstream abruptly.
 */
import net from 'node:net';
import type { Gateway } from '../../src/index.js';
import { runLegacyCli, startLegacyServer, type LegacyServer } from '../../legacy-adapter/index.js';
import { connect, startGateway } from '../support/gateway.js';
import { TestClient } from '../support/ws-client.js';
import { flat, v2Join } from '../support/conformance-drivers.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t) } };
}

async function gateway(): Promise<Gateway> {
  const gw = await startGateway({ pingInterval: 0.3, pingTimeout: 0.3, heartbeatInterval: 0 });
  cleanups.push(() => gw.close());
  return gw;
}

/** A TCP relay to `port` whose connections a test can cut without any close frame. */
async function tcpRelay(port: number): Promise<{ port: number; cut(): void }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((down) => {
    const up = net.connect(port, '127.0.0.1');
    for (const s of [down, up]) {
      sockets.add(s);
      s.on('error', () => undefined).on('close', () => sockets.delete(s));
    }
    down.pipe(up).pipe(down);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const cut = (): void => {
    for (const s of sockets) s.destroy();
  };
  cleanups.push(() => new Promise<void>((resolve) => (cut(), server.close(() => resolve()))));
  return { port: (server.address() as net.AddressInfo).port, cut };
}

async function standalone(upstream: string): Promise<LegacyServer> {
  const server = await startLegacyServer({ port: 0, host: '127.0.0.1', upstream, pingInterval: 0.5, pingTimeout: 0.5 });
  cleanups.push(() => server.close());
  return server;
}

describe('wsgate legacy (CLI)', () => {
  it('--help prints the usage and exits 0', async () => {
    const t = io();
    expect(await runLegacyCli(['--help'], t.io)).toBe(0);
    expect(t.out.join('')).toContain('Usage: wsgate legacy --port P --upstream ws://host:port/api/ws');
    expect(t.out.join('')).toContain('--ping-interval');
  });

  it.each([
    [['--port', '0', '--upstream', 'ws://127.0.0.1:1/api/ws', '--ping-interval', 'soon'], '--ping-interval: expected a number, got "soon"'],
    [['--port', '0', '--upstream', 'http://example.com'], '--upstream: expected a ws:// or wss:// URL'],
    [['--port', '0'], '--upstream: required'],
    [['--upstream', 'ws://127.0.0.1:1/api/ws'], '--port: required'],
    [['--port', '0', '--upstream', 'ws://127.0.0.1:1/api/ws', '--bogus', '1'], 'unknown option "--bogus"'],
    [['--port', '0', '--upstream', 'ws://127.0.0.1:1/api/ws', '--ping-timeout', '0'], '--ping-timeout: expected a number of seconds > 0'],
    [['--port', '0', '--upstream', 'ws://127.0.0.1:1/api/ws', '--log-level'], '--log-level: needs a value'],
  ])('%j is refused with exit code 2 and a message naming the option', async (argv, message) => {
    const t = io();
    expect(await runLegacyCli(argv, t.io)).toBe(2);
    expect(t.err.join('')).toContain(message);
  });

  it('serves v2 clients of a remote gateway until stopped, then closes them with system/disconnect + 1001', async () => {
    const gw = await gateway();
    const t = io();
    const stop = new AbortController();
    let server: LegacyServer | undefined;
    const exited = runLegacyCli(
      ['legacy', '--port', '0', '--host', '127.0.0.1', `--upstream=${gw.url('/api/ws')}`, '--ping-interval', '1', '--log-level', 'silent'],
      { ...t.io, signal: stop.signal, onListening: (s) => (server = s) },
    );
    cleanups.push(() => (stop.abort(), exited));
    while (!server) await new Promise((r) => setTimeout(r, 10));
    const vera = await connect(gw, { profile: { name: 'Vera' } });
    cleanups.push(() => vera.client.kill());
    const bob = await v2Join(`ws://127.0.0.1:${server.port}`, 'Bob');
    cleanups.push(() => bob.client.kill());
    expect(bob.members.map((m) => m.displayname).sort()).toEqual(['Bob', 'Vera']);
    bob.client.raw(JSON.stringify({ event: 'chat/message', content: 'over the wire' }));
    expect((await vera.client.next('send/broadcast')).payload).toMatchObject({ sender: bob.id, body: { text: 'over the wire' } });
    expect(server.connectionCount).toBe(1);
    stop.abort();
    expect(await exited).toBe(0);
    expect(flat(await bob.client.next('system/disconnect'))).toMatchObject({ title: 'going_away' });
    expect((await bob.client.closed).code).toBe(1001);
    expect((await vera.client.next('session/left')).payload).toMatchObject({ id: bob.id });
    expect(t.err).toEqual([]);
  });
});

describe('standalone adapter: the upstream leg dying', () => {
  it('an upstream cut without a close frame reaches the v2 client as system/disconnect {title:"upstream_lost"} + 1014', async () => {
    const gw = await gateway();
    const relay = await tcpRelay(gw.port);
    const server = await standalone(`ws://127.0.0.1:${relay.port}/api/ws`);
    const bob = await v2Join(`ws://127.0.0.1:${server.port}`, 'Bob');
    cleanups.push(() => bob.client.kill());
    const cutAt = Date.now();
    relay.cut();
    expect(flat(await bob.client.next('system/disconnect'))).toMatchObject({ title: 'upstream_lost' });
    const closed = await bob.client.closed;
    expect(closed.code).toBe(1014);
    expect(closed.at - cutAt).toBeLessThan(500);
  });

  it('an unreachable gateway reaches the v2 client the same way, at once', async () => {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const deadPort = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const server = await standalone(`ws://127.0.0.1:${deadPort}/api/ws`);
    const client = new TestClient(`ws://127.0.0.1:${server.port}/ws?username=Bob&password=pw`);
    cleanups.push(() => client.kill());
    expect(flat(await client.next('system/disconnect'))).toMatchObject({ title: 'upstream_lost' });
    expect((await client.closed).code).toBe(1014);
  });

  it('applies the Origin rule to its own /ws: a foreign browser origin gets 403', async () => {
    const gw = await gateway();
    const server = await standalone(gw.url('/api/ws'));
    const foreign = new TestClient(`ws://127.0.0.1:${server.port}/ws?username=x`, { origin: 'https://evil.example' });
    cleanups.push(() => foreign.kill());
    await expect(foreign.open()).rejects.toThrow('HTTP 403');
    const same = new TestClient(`ws://127.0.0.1:${server.port}/ws?username=x`, { origin: `http://127.0.0.1:${server.port}` });
    cleanups.push(() => same.kill());
    await expect(same.open()).resolves.toBeUndefined();
  });

  it('bounds its connections like the gateway: 429 over the per-address share, 503 over the total', async () => {
    const gw = await gateway();
    const server = await startLegacyServer({ port: 0, host: '127.0.0.1', upstream: gw.url('/api/ws'), pingInterval: 0, pingTimeout: 1, maxConnections: 3, maxConnectionsPerIp: 2 });
    cleanups.push(() => server.close());
    const open = async (localAddress: string): Promise<void> => {
      const c = new TestClient(`ws://127.0.0.1:${server.port}/ws?username=x`, { localAddress });
      cleanups.push(() => c.kill());
      await c.open();
    };
    await open('127.0.0.5');
    await open('127.0.0.5');
    await expect(open('127.0.0.5')).rejects.toThrow('HTTP 429');
    await open('127.0.0.6');
    await expect(open('127.0.0.7')).rejects.toThrow('HTTP 503');
    expect(server.connectionCount).toBe(3);
  });
});
