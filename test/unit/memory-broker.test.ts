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
