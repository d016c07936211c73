import { frameCost } from '../../src/session/replay-buffer.js';
import { SESSION_OVERHEAD_BYTES } from '../../src/session/disconnected-budget.js';
import { SessionRegistry } from '../../src/session/registry.js';
import type { Session, SessionLink } from '../../src/session/session.js';
import { ManualClock } from '../support/manual-clock.js';

const link = (): SessionLink => ({ sendText: () => undefined, sendStream: () => undefined, close: () => undefined, terminate: () => undefined });
const drop = { code: 1006, byServer: false };

function registry(maxDisconnectedSessions: number, maxDisconnectedBytes: number, evicted: string[] = []): SessionRegistry {
  const limits = { bufferMaxMessages: 1000, bufferMaxBytes: 1 << 20, dedupWindow: 1024, maxDisconnectedSessions, maxDisconnectedBytes };
  return new SessionRegistry(limits, 120_000, new ManualClock(), { onEvicted: (s) => evicted.push(s.id) });
}

async function connected(r: SessionRegistry, room = 'r'): Promise<{ s: Session; l: SessionLink }> {
  const s = await r.create(room, {}, true);
  const l = link();
  await r.attach(s, l);
  return { s, l };
}

describe('the global budget of disconnected sessions', () => {
  test('over the count, the oldest disconnected is evicted first and its resume hears `expired`', async () => {
    const evicted: string[] = [];
    const r = registry(2, 0, evicted);
    const a = await connected(r, 'a');
    const b = await connected(r, 'b');
    const c = await connected(r, 'c');
    await r.detach(a.s, a.l, drop);
    await r.detach(b.s, b.l, drop);
    expect(r.disconnected.count).toBe(2);
    await r.detach(c.s, c.l, drop);
    expect(evicted).toEqual([a.s.id]);
    expect(r.get(a.s.id)).toBeUndefined();
    expect(await r.resume(a.s.id, a.s.resumeToken, 0)).toEqual({ ok: false, error: 'expired' });
    expect(await r.resume(b.s.id, b.s.resumeToken, 0)).toMatchObject({ ok: true });
  });

  test('a session that reconnects leaves the budget; one that is ended leaves it too', async () => {
    const r = registry(1, 0);
    const a = await connected(r, 'a');
    const b = await connected(r, 'b');
    await r.detach(a.s, a.l, drop);
    await r.attach(a.s, link()); // resumed
    await r.detach(b.s, b.l, drop);
    expect(r.get(b.s.id)).toBeDefined();
    expect(r.disconnected.count).toBe(1);
    await r.end(b.s, 'kicked');
    expect(r.disconnected).toEqual({ count: 0, bytes: 0 });
  });

  test('over the bytes, messages queued for disconnected sessions evict the oldest; the bytes are what the buffers hold', async () => {
    const evicted: string[] = [];
    // A session's fixed part: the overhead and its `session/joined` description (id and profile).
    const base = SESSION_OVERHEAD_BYTES + JSON.stringify({ id: 'x'.repeat(21), profile: {} }).length;
    const r = registry(0, 2 * base + 10_000, evicted);
    const a = await connected(r, 'a');
    const b = await connected(r, 'b');
    expect(SESSION_OVERHEAD_BYTES + a.s.profileBytes).toBe(base);
    await r.detach(a.s, a.l, drop);
    await r.detach(b.s, b.l, drop);
    expect(r.disconnected.bytes).toBe(2 * base);
    b.s.send('app/x', 'y'.repeat(3000));
    const one = b.s.buffer.size;
    expect(one).toBe(frameCost(`{"event":"app/x","seq":1,"payload":"${'y'.repeat(3000)}"}`));
    expect(r.disconnected.bytes).toBe(2 * base + one);
    a.s.send('app/x', 'y'.repeat(3000));
    b.s.send('app/x', 'y'.repeat(3000));
    expect(evicted).toEqual([]);
    // The fourth message passes the budget: the oldest disconnected session (a) goes, though b grew.
    b.s.send('app/x', 'y'.repeat(3000));
    expect(evicted).toEqual([a.s.id]);
    expect(r.disconnected.count).toBe(1);
    expect(r.disconnected.bytes).toBe(base + b.s.buffer.size);
  });

  test('a large profile counts against the budget', async () => {
    const r = registry(0, 0);
    const s = await r.create('p', { name: 'n', bio: 'z'.repeat(5000) }, true);
    const l = link();
    await r.attach(s, l);
    await r.detach(s, l, drop);
    expect(r.disconnected.bytes).toBeGreaterThan(5000 + SESSION_OVERHEAD_BYTES);
  });
});
