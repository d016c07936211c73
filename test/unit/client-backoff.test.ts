import { backoffDelay, DEFAULT_BACKOFF, reconnectDecision } from '../../src/client/backoff.js';

describe('client backoff (full jitter, 0.5 s → 20 s)', () => {
  it('doubles the jitter window per attempt and caps it at 20 s', () => {
    const top = () => 0.999999;
    const windows = [0, 1, 2, 3, 4, 5, 6, 10, 100].map((a) => backoffDelay(a, DEFAULT_BACKOFF, top));
    expect(windows).toEqual([499, 999, 1999, 3999, 7999, 15999, 19999, 19999, 19999]);
  });

  it('is full jitter: anywhere from 0 up to the window', () => {
    expect(backoffDelay(5, DEFAULT_BACKOFF, () => 0)).toBe(0);
    expect(backoffDelay(5, DEFAULT_BACKOFF, () => 0.5)).toBe(8000);
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const d = backoffDelay(3, DEFAULT_BACKOFF);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(4000);
      seen.add(Math.floor(d / 1000));
    }
    expect(seen.size).toBe(4); // spread over the whole window, not clustered
  });
});

describe('client close-code classes (docs/protocol.md §6)', () => {
  it.each([1000, 1003, 1008, 1009, 4000, 4001, 4002, 4003, 4099])('stops after %i', (code) => {
    expect(reconnectDecision(code, 0).action).toBe('stop');
  });

  it.each([1001, 1006, 1011, 1005, 4100, 4101, 4102, 4199])('reconnects with backoff after %i', (code) => {
    const d = reconnectDecision(code, 2, DEFAULT_BACKOFF, () => 0.999);
    expect(d).toMatchObject({ action: 'reconnect', kind: 'reconnect' });
    expect(d.action === 'reconnect' && d.delay).toBe(1998);
  });

  it('reconnects at once, with only jitter, after a 1012 drain however many attempts failed', () => {
    const d = reconnectDecision(1012, 12, DEFAULT_BACKOFF, () => 0.999);
    expect(d).toMatchObject({ action: 'reconnect', kind: 'reconnect-now' });
    expect(d.action === 'reconnect' && d.delay).toBeLessThan(1000);
  });

  it('waits longer after 4103 rate_limited', () => {
    const d = reconnectDecision(4103, 0, DEFAULT_BACKOFF, () => 0);
    expect(d).toMatchObject({ action: 'reconnect', kind: 'reconnect-slow' });
    expect(d.action === 'reconnect' && d.delay).toBeGreaterThanOrEqual(10_000);
  });
});
