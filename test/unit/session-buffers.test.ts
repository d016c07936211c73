import { DedupWindow } from '../../src/session/dedup-window.js';
import { FRAME_OVERHEAD_BYTES, frameCost, ReplayBuffer } from '../../src/session/replay-buffer.js';

describe('ReplayBuffer', () => {
  test('counts bytes as held in memory: Latin-1 text one byte a character, other text two, plus the per-frame overhead', () => {
    expect(frameCost('{"a":"é"}')).toBe(9 + FRAME_OVERHEAD_BYTES);
    expect(frameCost('{"a":"€"}')).toBe(18 + FRAME_OVERHEAD_BYTES);
    const b = new ReplayBuffer(100, 1 << 20);
    b.push(1, 'x'.repeat(100));
    b.push(2, '€'.repeat(100));
    expect(b.size).toBe(300 + 2 * FRAME_OVERHEAD_BYTES);
    b.ack(1);
    expect(b.size).toBe(200 + FRAME_OVERHEAD_BYTES);
    b.ack(2);
    expect(b.size).toBe(0);
  });

  const fill = (b: ReplayBuffer, from: number, to: number) => {
    for (let s = from; s <= to; s++) b.push(s, `{"seq":${s}}`);
  };

  test('returns exactly the messages after last_seq, in order', () => {
    const b = new ReplayBuffer(100, 1 << 20);
    fill(b, 1, 10);
    expect(b.since(6, 10)).toEqual([7, 8, 9, 10].map((seq) => ({ seq, text: `{"seq":${seq}}` })));
    expect(b.since(10, 10)).toEqual([]);
  });

  test('ack drops what the client has; resume after the ack still works', () => {
    const b = new ReplayBuffer(100, 1 << 20);
    fill(b, 1, 10);
    b.ack(8);
    expect(b.length).toBe(2);
    expect((b.since(8, 10) as { seq: number }[]).map((f) => f.seq)).toEqual([9, 10]);
    expect(b.since(5, 10)).toBe('gap');
  });

  test('overflow by count or bytes makes an older resume a gap, never a silent loss', () => {
    const b = new ReplayBuffer(5, 1 << 20);
    fill(b, 1, 8);
    expect(b.length).toBe(5);
    expect(b.since(2, 8)).toBe('gap');
    expect((b.since(3, 8) as { seq: number }[]).map((f) => f.seq)).toEqual([4, 5, 6, 7, 8]);
    // Room for two frames as held in memory (characters + overhead), not three.
    const bytes = new ReplayBuffer(1000, 2 * frameCost('{"seq":1}'));
    fill(bytes, 1, 5);
    expect(bytes.size).toBe(2 * frameCost('{"seq":1}'));
    expect(bytes.length).toBe(2);
    expect(bytes.since(2, 5)).toBe('gap');
    expect((bytes.since(3, 5) as { seq: number }[]).map((f) => f.seq)).toEqual([4, 5]);
  });

  test('a last_seq beyond what was sent is a gap', () => {
    const b = new ReplayBuffer(10, 1 << 20);
    fill(b, 1, 3);
    expect(b.since(7, 3)).toBe('gap');
  });
});

describe('ReplayBuffer with a shared fan-out frame', () => {
  test('replays the shared frame with each held seq, charges its cost, and mixes with plain texts in order', () => {
    const shared = { text: (seq: number) => `{"event":"channel/message","seq":${seq},"payload":{}}`, cost: 90 };
    const b = new ReplayBuffer(100, 1 << 20);
    b.push(1, 'one');
    b.push(2, shared);
    b.push(3, shared);
    expect(b.size).toBe(frameCost('one') + 180);
    expect(b.since(0, 3)).toEqual([
      { seq: 1, text: 'one' },
      { seq: 2, text: '{"event":"channel/message","seq":2,"payload":{}}' },
      { seq: 3, text: '{"event":"channel/message","seq":3,"payload":{}}' },
    ]);
    b.ack(2);
    expect(b.size).toBe(90);
    // The bound in bytes applies as it did to texts: a byte limit of two shared frames keeps the newest two.
    const small = new ReplayBuffer(100, 180);
    for (let seq = 1; seq <= 5; seq++) small.push(seq, shared);
    expect(small.since(2, 5)).toEqual('gap');
    expect(small.since(3, 5)).toHaveLength(2);
  });
});

describe('DedupWindow', () => {
  test('remembers the newest ids up to its capacity', () => {
    const d = new DedupWindow(1024);
    for (let i = 0; i < 1500; i++) d.add(`m${i}`);
    expect(d.size).toBe(1024);
    expect(d.has('m1499')).toBe(true);
    expect(d.has('m476')).toBe(true);
    expect(d.has('m475')).toBe(false);
    d.delete('m1499');
    expect(d.has('m1499')).toBe(false);
  });
});

test('ReplayBuffer.from pages through contiguous frames for the replay pump', () => {
  const b = new ReplayBuffer(10, 1 << 20);
  for (let s = 1; s <= 12; s++) b.push(s, `f${s}`);
  expect(b.from(3, 5).map((f) => f.seq)).toEqual([3, 4, 5, 6, 7]);
  expect(b.from(11, 5).map((f) => f.seq)).toEqual([11, 12]);
  expect(b.from(13, 5)).toEqual([]);
  expect(b.from(1, 2)[0]!.seq).toBe(3); // dropped by overflow: the pump sees it starts late
});
