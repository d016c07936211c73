import { MemoryBroker } from '../../src/broker/memory-broker.js';
import { ManualClock } from '../support/manual-clock.js';

describe('MemoryBroker history and recovery', () => {
  test('offsets count from 1; recovery returns everything after `since`', async () => {
    const b = new MemoryBroker(100, 300);
    const first = await b.publish('c', 'm1');
    expect(first.offset).toBe(1);
    await b.publish('c', 'm2');
    await b.publish('c', 'm3');
    const r = await b.recover('c', { offset: 1, epoch: first.epoch });
    expect(r.recovered).toBe(true);
    expect(r.messages.map((m) => m.data)).toEqual(['m2', 'm3']);
    expect(r.position).toEqual({ offset: 3, epoch: first.epoch });
  });

  test('history beyond history_size or a different epoch is not recovered; missed tells how much', async () => {
    const b = new MemoryBroker(3, 300);
    let epoch = '';
    for (let i = 1; i <= 10; i++) epoch = (await b.publish('c', i)).epoch;
    const r = await b.recover('c', { offset: 2, epoch });
    expect(r).toMatchObject({ recovered: false, messages: [], missed: 8 });
    const other = await b.recover('c', { offset: 9, epoch: 'other' });
    expect(other.recovered).toBe(false);
    expect(other.missed).toBeUndefined();
    expect((await b.recover('c', { offset: 7, epoch })).messages.map((m) => m.data)).toEqual([8, 9, 10]);
  });

  test('history expires after history_ttl', async () => {
    const clock = new ManualClock();
    const b = new MemoryBroker(100, 300, clock);
    const { epoch } = await b.publish('c', 'old');
    clock.advance(299_999);
    expect((await b.recover('c', { offset: 0, epoch })).messages.map((m) => m.data)).toEqual(['old']);
    clock.advance(2);
    const r = await b.recover('c', { offset: 0, epoch });
    expect(r.recovered).toBe(false);
    // Nobody listened and its history expired: the channel was forgotten and came back with a new epoch.
    expect(r.position.epoch).not.toBe(epoch);
  });
});

describe('MemoryBroker forgets channels nobody listens to once their history expired', () => {
  test('3,000 channels published without subscribers are all gone after history_ttl', async () => {
    const clock = new ManualClock();
    const b = new MemoryBroker(100, 300, clock);
    for (let i = 0; i < 3000; i++) await b.publish(`c${i}`, { i });
    expect(b.channelCount).toBe(3000);
    clock.advance(299_000);
    expect(b.channelCount).toBe(3000);
    clock.advance(1_002);
    expect(b.channelCount).toBe(0);
  });

  test('a channel with a listener is kept; after the last one leaves it goes with its history', async () => {
    const clock = new ManualClock();
    const b = new MemoryBroker(100, 300, clock);
    const listener = (): void => undefined;
    await b.subscribe('kept', listener);
    const { epoch } = await b.publish('kept', 1);
    clock.advance(600_000);
    expect(b.channelCount).toBe(1);
    expect((await b.recover('kept')).position).toEqual({ offset: 1, epoch });
    await b.publish('kept', 2);
    clock.advance(100_000);
    await b.unsubscribe('kept', listener);
    expect(b.channelCount).toBe(1);
    // The message of t=600 s expires at t=900 s; only then is the channel forgotten.
    clock.advance(199_000);
    expect(b.channelCount).toBe(1);
    clock.advance(1_002);
    expect(b.channelCount).toBe(0);
  });

  test('with history_size 0 an unheard publish leaves nothing behind', async () => {
    const b = new MemoryBroker(0, 300, new ManualClock());
    await b.publish('c', 1);
    expect(b.channelCount).toBe(0);
  });

  test('a subscriber coming back before expiry keeps the channel and its epoch', async () => {
    const clock = new ManualClock();
    const b = new MemoryBroker(100, 300, clock);
    const { epoch } = await b.publish('c', 1);
    clock.advance(100_000);
    await b.subscribe('c', () => undefined);
    clock.advance(600_000);
    expect(b.channelCount).toBe(1);
    expect((await b.recover('c')).position.epoch).toBe(epoch);
  });
});

describe('MemoryBroker history budget (max_history_bytes): a made-up channel per message cannot hold memory at the send rate', () => {
  const big = 'x'.repeat(10_000);

  test('3,000 unheard channels of 10 kB under a 1 MiB budget: the held bytes stay under it, the newest are recoverable, the oldest channels are forgotten', async () => {
    const clock = new ManualClock();
    const dropped: number[] = [];
    const b = new MemoryBroker(100, 300, clock, 1 << 20, (n) => dropped.push(n));
    const positions = [];
    for (let i = 0; i < 3000; i++) {
      positions.push(await b.publish(`c${i}`, big));
      expect(b.historyHeld.bytes).toBeLessThanOrEqual(1 << 20);
    }
    const kept = b.historyHeld.entries;
    expect(kept).toBeGreaterThan(90); // ~1 MiB / (10 kB + costs)
    expect(kept).toBeLessThan(105);
    expect(b.channelCount).toBe(kept); // one entry each; the emptied unheard channels are gone
    expect(dropped.reduce((a, n) => a + n, 0)).toBe(3000 - kept);
    // The newest channel still recovers its message; the oldest starts over (new epoch, recovered:false).
    const last = await b.recover('c2999', { offset: 0, epoch: positions[2999]!.epoch });
    expect(last.recovered).toBe(true);
    expect(last.messages.map((m) => m.data)).toEqual([big]);
    const first = await b.recover('c0', { offset: 0, epoch: positions[0]!.epoch });
    expect(first.recovered).toBe(false);
    expect(first.position.epoch).not.toBe(positions[0]!.epoch);
  });

  test('a listened channel keeps its epoch; what the budget dropped is reported as missed', async () => {
    const clock = new ManualClock();
    const b = new MemoryBroker(100, 300, clock, 50_000);
    await b.subscribe('busy', () => undefined);
    const firstPos = await b.publish('busy', big);
    for (let i = 0; i < 9; i++) await b.publish('busy', big);
    expect(b.historyHeld.bytes).toBeLessThanOrEqual(50_000);
    expect(b.historyHeld.entries).toBe(4);
    const r = await b.recover('busy', { offset: 0, epoch: firstPos.epoch });
    expect(r.recovered).toBe(false);
    expect(r.position).toEqual({ offset: 10, epoch: firstPos.epoch });
    expect(r.missed).toBe(10);
    // From a position the budget kept, everything after it comes back.
    const near = await b.recover('busy', { offset: 7, epoch: firstPos.epoch });
    expect(near.recovered).toBe(true);
    expect(near.messages.map((m) => m.offset)).toEqual([8, 9, 10]);
  });

  test('held bytes return to 0 when history expires, with history_size trimming the same channel meanwhile', async () => {
    const clock = new ManualClock();
    const b = new MemoryBroker(3, 300, clock, 1 << 20);
    for (let i = 0; i < 5000; i++) await b.publish(`c${i % 7}`, { i });
    expect(b.historyHeld.entries).toBe(21);
    clock.advance(301_000);
    for (let i = 0; i < 7; i++) await b.recover(`c${i}`);
    expect(b.historyHeld).toEqual({ bytes: 0, entries: 0 });
  });
});
