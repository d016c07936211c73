import { ManualClock } from '../support/manual-clock.js';
import { ADAPTER_PING_PAYLOAD, UPSTREAM_GRACE, V2Pinger } from '../../legacy-adapter/v2-pinger.js';

function setup(intervalMs = 1000, timeoutMs = 500) {
  const clock = new ManualClock();
  const pings: number[] = [];
  const timeouts: number[] = [];
  const pinger = new V2Pinger(clock, intervalMs, timeoutMs, {
    ping: (data) => {
      expect(data.equals(ADAPTER_PING_PAYLOAD)).toBe(true);
      pings.push(clock.now());
    },
    onPingTimeout: () => timeouts.push(clock.now()),
  });
  return { clock, pings, timeouts, pinger };
}

describe('V2Pinger (the adapter\'s own pings on a silent v2 leg)', () => {
  it('pings every interval while the upstream sends no pings, and the client answers', () => {
    const { clock, pings, timeouts, pinger } = setup();
    pinger.start();
    for (let i = 0; i < 5; i++) {
      clock.advance(1000);
      expect(pinger.pong(ADAPTER_PING_PAYLOAD)).toBe(true);
    }
    expect(pings).toEqual([1000, 2000, 3000, 4000, 5000]);
    expect(timeouts).toEqual([]);
    pinger.stop();
    expect(clock.pending).toBe(0);
  });

  it('stays quiet while upstream pings keep arriving', () => {
    const { clock, pings, pinger } = setup();
    pinger.start();
    for (let i = 0; i < 10; i++) {
      clock.advance(900);
      pinger.upstreamPinged();
    }
    expect(pings).toEqual([]);
  });

  it('steps in when upstream pings stop, after one interval plus the grace', () => {
    const { clock, pings, pinger } = setup();
    pinger.start();
    clock.advance(500);
    pinger.upstreamPinged();
    clock.advance(1000 * (1 + UPSTREAM_GRACE));
    expect(pings).toEqual([500 + 1000 * (1 + UPSTREAM_GRACE)]);
    pinger.pong(ADAPTER_PING_PAYLOAD);
    clock.advance(1000);
    expect(pings).toEqual([1750, 2750]);
  });

  it('an unanswered own ping closes after the timeout, once', () => {
    const { clock, timeouts, pinger } = setup(1000, 500);
    pinger.start();
    clock.advance(1499);
    expect(timeouts).toEqual([]);
    clock.advance(1);
    expect(timeouts).toEqual([1500]);
    clock.advance(5000);
    expect(timeouts).toEqual([1500]);
    expect(clock.pending).toBe(0);
  });

  it('a pong with another payload (a relayed gateway ping) neither counts nor is swallowed', () => {
    const { clock, timeouts, pinger } = setup(1000, 500);
    pinger.start();
    clock.advance(1000);
    expect(pinger.pong(Buffer.from('1a'))).toBe(false);
    clock.advance(500);
    expect(timeouts).toEqual([1500]);
  });

  it('with the timeout longer than the interval, the deadline runs from the first unanswered ping', () => {
    const { clock, pings, timeouts, pinger } = setup(200, 500);
    pinger.start();
    clock.advance(700);
    expect(pings).toEqual([200, 400, 600]);
    expect(timeouts).toEqual([700]);
  });

  it('interval 0 never pings', () => {
    const { clock, pings, pinger } = setup(0, 500);
    pinger.start();
    pinger.upstreamPinged();
    clock.advance(10_000);
    expect(pings).toEqual([]);
    expect(clock.pending).toBe(0);
  });
});
