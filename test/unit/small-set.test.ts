import { SmallSet } from '../../src/session/small-set.js';

describe('SmallSet', () => {
  test('behaves as a Set of names through one, a few and many entries', () => {
    const s = new SmallSet<string>();
    const model = new Set<string>();
    const names = Array.from({ length: 20 }, (_, i) => `c${i}`);
    const check = (): void => {
      expect(s.size).toBe(model.size);
      expect([...s]).toEqual([...model]);
      for (const n of names) expect(s.has(n)).toBe(model.has(n));
    };
    check();
    for (const n of names) {
      s.add(n);
      s.add(n); // twice: still once
      model.add(n);
      check();
    }
    for (const n of ['c3', 'c0', 'c19', 'nope']) {
      expect(s.delete(n)).toBe(model.delete(n));
      check();
    }
    for (const n of [...model]) {
      expect(s.delete(n)).toBe(true);
      model.delete(n);
      check();
    }
  });

  test('shrinks back from a few to one: deleting down to one name and adding again keeps the order', () => {
    const s = new SmallSet<string>();
    s.add('a').add('b');
    expect(s.delete('a')).toBe(true);
    expect([...s]).toEqual(['b']);
    s.add('c');
    expect([...s]).toEqual(['b', 'c']);
    expect(s.delete('x')).toBe(false);
    expect(s.delete('b') && s.delete('c')).toBe(true);
    expect(s.size).toBe(0);
    expect([...s]).toEqual([]);
  });

  test('holds objects by identity (a room\'s sessions)', () => {
    const [a, b, a2] = [{ id: 'a' }, { id: 'b' }, { id: 'a' }];
    const s = new SmallSet<{ id: string }>();
    s.add(a).add(a);
    expect(s.size).toBe(1);
    expect(s.has(a2)).toBe(false);
    s.add(b);
    expect([...s]).toEqual([a, b]);
    expect(s.delete(a2)).toBe(false);
    expect(s.delete(a)).toBe(true);
    expect([...s]).toEqual([b]);
  });
});
