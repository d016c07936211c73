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
    expect(r.missed).toBe(1);
  });
});
