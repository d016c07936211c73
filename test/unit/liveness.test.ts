import { AppHeartbeat } from '../../src/liveness/app-heartbeat.js';
import { ManualClock } from '../support/manual-clock.js';
import { TimerWheel } from '../../src/liveness/timer-wheel.js';
import { TransportPinger } from '../../src/liveness/transport-pinger.js';

function peer() {
  const p = { pings: [] as { at: number; data: Buffer }[], terminatedAt: -1, clock: undefined as unknown as ManualClock };
  return {
    p,
    target: {
      ping: (data: Buffer) => p.pings.push({ at: p.clock.now(), data }),
      terminate: () => (p.terminatedAt = p.clock.now()),
    },
  };
}

/** A wheel item with a name to print. */
type Item = { name: string; wheelSlot: number };
const item = (name: string): Item => ({ name, wheelSlot: -1 });

describe('TimerWheel', () => {
  test('fires items in deadline order with one timer, re-scheduling replaces', () => {
    const clock = new ManualClock();
    const fired: string[] = [];
    const wheel = new TimerWheel<Item>(clock, 10, (x) => fired.push(`${x.name}@${clock.now()}`));
    const [a, b, c] = [item('a'), item('b'), item('c')];
    wheel.schedule(b, 200);
    wheel.schedule(a, 100);
    wheel.schedule(c, 300);
    wheel.schedule(c, 50);
    expect(clock.pending).toBe(1);
    clock.advance(1000);
    expect(fired).toEqual(['c@50', 'a@100', 'b@200']);
    expect(wheel.size).toBe(0);
    expect(clock.pending).toBe(0);
  });

  test('many items due at once fire a batch per wake-up: a timer due at the same time runs in between, none is lost', () => {
    const clock = new ManualClock();
    const fired: string[] = [];
    const wheel = new TimerWheel<Item>(clock, 10, (x) => fired.push(x.name), undefined, 128);
    const items = Array.from({ length: 300 }, (_, i) => item(`i${i}`));
    for (const x of items) wheel.schedule(x, 100);
    let seenByOtherTimer = -1;
    clock.setTimeout(() => (seenByOtherTimer = fired.length), 100);
    clock.advance(100);
    expect(seenByOtherTimer).toBe(128);
    expect(fired).toEqual(items.map((x) => x.name));
    expect(wheel.size).toBe(0);
    expect(clock.pending).toBe(0);
  });

  test('a wake-up stops after ~1 ms of slow items even under its count: a timer due meanwhile runs in between', () => {
    const clock = new ManualClock();
    const fired: string[] = [];
    // Each item takes 0.2 ms (a socket write on a busy machine); the clock is read before every 16th item, when 15
    // have taken 3 ms, past the 1 ms budget.
    const wheel = new TimerWheel<Item>(clock, 10, (x) => (fired.push(x.name), (clock.time += 0.2)), undefined, 128);
    const items = Array.from({ length: 40 }, (_, i) => item(`i${i}`));
    for (const x of items) wheel.schedule(x, 100);
    let seenByOtherTimer = -1;
    clock.setTimeout(() => (seenByOtherTimer = fired.length), 100);
    clock.advance(100);
    clock.advance(10);
    expect(seenByOtherTimer).toBe(15);
    expect(fired).toEqual(items.map((x) => x.name));
  });

  test('cancel forgets an item', () => {
    const clock = new ManualClock();
    const fired: string[] = [];
    const wheel = new TimerWheel<Item>(clock, 10, (x) => fired.push(x.name));
    const a = item('a');
    wheel.schedule(a, 100);
    wheel.cancel(a);
    clock.advance(1000);
    expect(fired).toEqual([]);
  });

  test('an item whose callback throws is reported to the owner; the items due with it still fire', () => {
    const clock = new ManualClock();
    const fired: string[] = [];
    const failures: string[] = [];
    const wheel = new TimerWheel<Item>(
      clock,
      10,
      (x) => {
        if (x.name === 'bad') throw new Error('socket gone');
        fired.push(x.name);
      },
      (err, x) => failures.push(`${x.name}: ${(err as Error).message}`),
    );
    for (const x of ['a', 'bad', 'b']) wheel.schedule(item(x), 100);
    clock.advance(100);
    expect(fired).toEqual(['a', 'b']);
    expect(failures).toEqual(['bad: socket gone']);
  });

  test('an item cancelled by the callback of another item due in the same slot does not fire', () => {
    const clock = new ManualClock();
    const fired: string[] = [];
    const [a, b] = [item('a'), item('b')];
    const wheel: TimerWheel<Item> = new TimerWheel<Item>(clock, 10, (x) => {
      fired.push(x.name);
      if (x === a) wheel.cancel(b);
    });
    wheel.schedule(a, 100);
    wheel.schedule(b, 100);
    clock.advance(100);
    expect(fired).toEqual(['a']);
    expect(wheel.size).toBe(0);
  });
});

describe('TimerWheel lateness', () => {
  test('reports how long a blocked loop held a due item past its slot, once per read; on-time items count 0', () => {
    const clock = new ManualClock();
    const fired: string[] = [];
    const wheel = new TimerWheel<Item>(clock, 10, (x) => fired.push(`${x.name}@${clock.now()}`));
    wheel.schedule(item('on-time'), 50);
    clock.advance(60);
    expect(fired).toEqual(['on-time@50']);
    expect(wheel.takeMaxLateness()).toBe(0);
    wheel.schedule(item('held'), 100);
    clock.time = 145; // the loop was busy from before 100 to 145: the timer could not run
    clock.advance(0);
    expect(fired).toEqual(['on-time@50', 'held@145']);
    expect(wheel.takeMaxLateness()).toBe(45);
    expect(wheel.takeMaxLateness()).toBe(0); // read resets
  });
});

describe('TransportPinger', () => {
  test('pings every interval, spread over the interval, and keeps an answering peer', () => {
    const clock = new ManualClock();
    let r = 0;
    const pinger = new TransportPinger(clock, 10_000, 10_000, {}, () => (r++ % 10) / 10);
    const peers = Array.from({ length: 10 }, () => peer());
    for (const { p, target } of peers) {
      p.clock = clock;
      pinger.add(target);
    }
    // Answer every ping at once.
    for (let t = 0; t < 60_000; t += 100) {
      clock.advance(100);
      for (const { p, target } of peers) for (const ping of p.pings.splice(0)) pinger.pong(target, ping.data), (p as { n?: number }).n = ((p as { n?: number }).n ?? 0) + 1;
    }
    for (const { p } of peers) {
      expect(p.terminatedAt).toBe(-1);
      expect((p as { n?: number }).n).toBeGreaterThanOrEqual(5);
    }
    expect(pinger.size).toBe(10);
  });

  test('first pings land at different times (spread), not in one tick', () => {
    const clock = new ManualClock();
    const pinger = new TransportPinger(clock, 10_000, 10_000);
    const peers = Array.from({ length: 50 }, () => peer());
    for (const { p, target } of peers) {
      p.clock = clock;
      pinger.add(target);
    }
    clock.advance(10_000);
    const times = new Set(peers.map(({ p }) => p.pings[0]!.at));
    expect(times.size).toBeGreaterThan(10);
  });

  test('a silent peer is terminated within interval + timeout', () => {
    const clock = new ManualClock();
    const pinger = new TransportPinger(clock, 10_000, 5_000, {}, () => 0.999);
    const { p, target } = peer();
    p.clock = clock;
    pinger.add(target);
    clock.advance(30_000);
    expect(p.pings).toHaveLength(1);
    expect(p.terminatedAt).toBeGreaterThan(0);
    expect(p.terminatedAt).toBeLessThanOrEqual(10_000 + 5_000 + 250);
    expect(pinger.size).toBe(0);
  });

  test('a pong with another payload does not count', () => {
    const clock = new ManualClock();
    const pinger = new TransportPinger(clock, 1_000, 1_000, {}, () => 0);
    const { p, target } = peer();
    p.clock = clock;
    pinger.add(target);
    clock.advance(10);
    pinger.pong(target, Buffer.from('not-it'));
    clock.advance(1_500);
    expect(p.terminatedAt).toBeGreaterThan(0);
  });
});

describe('AppHeartbeat', () => {
  function watched(clock: ManualClock) {
    const s = { sent: [] as number[], timedOutAt: -1 };
    return { s, target: { sendHeartbeat: () => s.sent.push(clock.now()), timedOut: () => (s.timedOutAt = clock.now()) } };
  }

  test('sends a heartbeat each interval and closes after the timeout without client messages', () => {
    const clock = new ManualClock();
    const hb = new AppHeartbeat(clock, 60_000, 120_000, {}, () => 1);
    const { s, target } = watched(clock);
    hb.add(target);
    clock.advance(119_000);
    expect(s.sent).toEqual([60_000]);
    expect(s.timedOutAt).toBe(-1);
    clock.advance(2_000);
    expect(s.timedOutAt).toBeGreaterThanOrEqual(120_000);
    expect(s.timedOutAt).toBeLessThanOrEqual(121_000);
  });

  test('any client message keeps it alive indefinitely', () => {
    const clock = new ManualClock();
    const hb = new AppHeartbeat(clock, 60_000, 120_000);
    const { s, target } = watched(clock);
    hb.add(target);
    for (let i = 0; i < 20; i++) {
      clock.advance(60_000);
      hb.heard(target);
    }
    expect(s.timedOutAt).toBe(-1);
    expect(s.sent.length).toBeGreaterThanOrEqual(19);
  });

  test('remove stops everything: no timer leaks', () => {
    const clock = new ManualClock();
    const hb = new AppHeartbeat(clock, 1_000, 2_000);
    const { target } = watched(clock);
    hb.add(target);
    hb.remove(target);
    clock.advance(10_000);
    expect(clock.pending).toBe(0);
  });
});
