import { jest } from '@jest/globals';
import { WsgateClient } from '../../src/client/client.js';
import { FakeSocket, FakeVisibility, init, ManualClock } from './client-fakes.js';

let clock: ManualClock;
let client: WsgateClient | undefined;

function start(heartbeatSeconds: number, vis: FakeVisibility | null = null): FakeSocket {
  client = new WsgateClient({ url: 'ws://gw.test/api/ws', WebSocket: FakeSocket, clock, random: () => 0.5, visibility: vis, network: null });
  const s = FakeSocket.last;
  s.open();
  s.receive(init({ heartbeat_interval: heartbeatSeconds }));
  return s;
}

/** Times (ms since start) at which the client sent anything after its hello. */
function sendTimes(s: FakeSocket, log: number[]): void {
  const orig = s.send.bind(s);
  s.send = (data: string) => {
    log.push(clock.now());
    orig(data);
  };
}

beforeEach(() => {
  clock = new ManualClock(0);
  FakeSocket.reset();
});
afterEach(() => client?.close());

describe('application heartbeat and watchdog', () => {
  it('sends client/heartbeat every heartbeat_interval while the server is alive', () => {
    const s = start(1);
    for (let t = 0; t < 5; t++) {
      clock.advance(1000);
      s.receive({ event: 'system/heartbeat' });
    }
    expect(s.of('client/heartbeat').length).toBeGreaterThanOrEqual(5);
    expect(client!.state).toBe('connected');
    expect(client!.stats.heartbeatsReceived).toBe(5);
  });

  it('does not send a heartbeat when other messages already showed we are alive', () => {
    const s = start(1);
    for (let t = 0; t < 10; t++) {
      clock.advance(500);
      void client!.send('app/op', {}).catch(() => undefined);
      s.receive({ event: 'system/heartbeat' });
    }
    expect(s.of('client/heartbeat')).toHaveLength(0);
  });

  it('reconnects and resumes after 1.5 × heartbeat_interval of silence', () => {
    const s = start(1);
    const ev = jest.fn();
    client!.on('disconnected', ev);
    clock.advance(1499);
    expect(ev).not.toHaveBeenCalled();
    clock.advance(1);
    expect(ev).toHaveBeenCalledWith(expect.objectContaining({ code: 4100, reason: 'heartbeat_timeout', local: true, willReconnect: true }));
    expect(s.closedWith).toEqual({ code: 4100, reason: 'heartbeat_timeout' }); // not 1000: the session must stay resumable
    clock.advance(1000);
    const s2 = FakeSocket.last;
    s2.open();
    expect(s2.sent[0]!.payload).toMatchObject({ resume: { session_id: 's1', resume_token: 't1', last_seq: 0 } });
  });

  it('keeps the watchdog quiet under throttled timers while messages keep arriving', () => {
    const s = start(20);
    clock.throttleMs = 60_000; // a hidden Chrome tab: timers wake once a minute
    for (let i = 0; i < 30; i++) {
      clock.advance(20_000);
      s.receive({ event: 'system/heartbeat' }); // message events are not throttled
    }
    expect(client!.state).toBe('connected');
    expect(FakeSocket.instances).toHaveLength(1);
  });

  it('keeps our heartbeat within the server timeout when timers fire only once a minute', () => {
    const s = start(20);
    const sent: number[] = [];
    sendTimes(s, sent);
    clock.throttleMs = 60_000;
    for (let i = 0; i < 30; i++) {
      clock.advance(20_000);
      s.receive({ event: 'system/heartbeat' });
    }
    // The server closes after heartbeat_timeout = 2 × 20 s without a client message.
    const gaps = sent.slice(1).map((t, i) => t - sent[i]!);
    expect(sent.length).toBeGreaterThanOrEqual(25);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(40_000);
  });

  it('judges silence by wall-clock time: a throttled timer that wakes late still detects a dead server at once', () => {
    const s = start(20);
    clock.throttleMs = 60_000;
    clock.advance(10_000);
    s.receive({ event: 'system/heartbeat' }); // last sign of life at t = 10 s; deadline 40 s
    const ev = jest.fn();
    client!.on('disconnected', ev);
    clock.advance(49_999); // t just under 60 s: no timer may fire before the minute boundary
    expect(ev).not.toHaveBeenCalled();
    clock.advance(1); // the first throttled wake-up past the deadline
    expect(ev).toHaveBeenCalledWith(expect.objectContaining({ code: 4100, local: true }));
  });

  it('checks the watchdog as soon as the page becomes visible, without waiting for a throttled timer', () => {
    const vis = new FakeVisibility();
    const s = start(20, vis);
    clock.throttleMs = 60_000;
    clock.advance(5_000);
    s.receive({ event: 'system/heartbeat' });
    // The laptop sleeps: wall time jumps 10 minutes without any timer running.
    clock.time += 600_000;
    const ev = jest.fn();
    client!.on('disconnected', ev);
    vis.set(false);
    expect(ev).toHaveBeenCalledWith(expect.objectContaining({ code: 4100 }));
  });

  it('disables both with heartbeat_interval 0', () => {
    const s = start(0);
    clock.advance(10 * 60_000);
    expect(s.of('client/heartbeat')).toHaveLength(0);
    expect(client!.state).toBe('connected');
  });
});
