import WebSocket from 'ws';
import { WsgateClient } from '../../src/client/index.js';
import type { Gateway } from '../../src/index.js';
import { startGateway } from '../support/gateway.js';

let gw: Gateway;
const clients: WsgateClient[] = [];

/** Cut the TCP socket of a session's live connection from the gateway side: no close frame, like a dead network. */
function killSocket(sessionId: string | undefined): boolean {
  return sessionId !== undefined && gw.dropConnection(sessionId);
}

function client(): WsgateClient {
  const c = new WsgateClient({ url: gw.url('/api/ws'), WebSocket, backoff: { minDelay: 50, maxDelay: 200 } });
  clients.push(c);
  return c;
}

function until(pred: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (pred()) resolve();
      else if (Date.now() > deadline) reject(new Error('condition not met in time'));
      else setTimeout(tick, 10);
    };
    tick();
  });
}

beforeEach(async () => {
  gw = await startGateway({ pingInterval: 0.5, pingTimeout: 0.5, heartbeatInterval: 1 });
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await gw.close();
});

describe('the client SDK from Node against a real gateway', () => {
  it('resumes after its socket is killed mid-stream with no message lost or duplicated', async () => {
    const c = client();
    const got: number[] = [];
    const sub = c.subscribe('ticks', (m) => got.push(m.data as number));
    let resumed = 0;
    c.on('resumed', () => resumed++);
    await until(() => sub.state === 'subscribed');
    for (let n = 1; n <= 300; n++) {
      await gw.publish('ticks', n);
      if (n === 100 || n === 200) {
        await until(() => c.state === 'connected');
        expect(killSocket(c.sessionId)).toBe(true);
      }
      if (n % 25 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    await until(() => got.length >= 300);
    await new Promise((r) => setTimeout(r, 100)); // anything extra would show up now
    expect(got).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    expect(resumed).toBe(2);
    expect(c.stats.reconnects).toBe(2);
  });

  it('applies a send() exactly once when the socket dies before the ack reaches the client', async () => {
    let applied = 0;
    gw.handle('app/inc', (ctx) => {
      applied++;
      killSocket(ctx.session.id); // the ack can no longer travel on this socket
    });
    const c = client();
    await until(() => c.state === 'connected');
    const result = await c.send('app/inc', { by: 1 });
    expect(applied).toBe(1);
    expect(result.id).toMatch(/\./);
    expect(c.stats.resumes).toBe(1);
  });

  it('stays connected on application heartbeats alone, past the server heartbeat_timeout', async () => {
    const c = client();
    await until(() => c.state === 'connected');
    const firstSession = c.sessionId;
    await new Promise((r) => setTimeout(r, 2500)); // > 2 × heartbeat_interval: the server would close a silent client with 4100
    expect(c.state).toBe('connected');
    expect(c.stats.heartbeatsSent).toBeGreaterThanOrEqual(1);
    expect(c.stats.heartbeatsReceived).toBeGreaterThanOrEqual(2);
    expect(c.stats.reconnects).toBe(0);
    expect(c.sessionId).toBe(firstSession);
  });

  it('stops, without reconnecting, when the backend ends the session (4003)', async () => {
    const c = client();
    await until(() => c.state === 'connected');
    const failed = new Promise<{ code: number }>((r) => c.on('failed', r));
    gw.endSession(c.sessionId!);
    await expect(failed).resolves.toMatchObject({ code: 4003 });
    expect(c.state).toBe('failed');
  });
});
