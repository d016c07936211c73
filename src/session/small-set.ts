/**
 * The part of `Set` the gateway uses, without a hash table while it holds one or a few entries: a session's
 * channels, a room's members. A `Set` costs about 150 bytes even for one entry (its object and its smallest
 * table); most sessions hold one subscription, and a session in a room of its own is that room's only member.
 * Up to SMALL_LIMIT entries sit in a plain array (a short linear search); past that it switches to a real Set.
 * T is never an array or a Set itself (strings, sessions).
 */
export class SmallSet<T extends string | object> implements Iterable<T> {
  /** undefined: none; a T: one; an array: a few; a Set: many. */
  private items: T | T[] | Set<T> | undefined;

  has(item: T): boolean {
    const i = this.items;
    if (i === undefined) return false;
    if (Array.isArray(i)) return i.includes(item);
    return i instanceof Set ? i.has(item) : i === item;
  }

  add(item: T): this {
    const i = this.items;
    if (i === undefined) this.items = item;
    else if (this.has(item)) return this;
    else if (Array.isArray(i)) {
      if (i.length < SMALL_LIMIT) i.push(item);
      else this.items = new Set([...i, item]);
    } else if (i instanceof Set) i.add(item);
    else this.items = [i, item];
    return this;
  }

  delete(item: T): boolean {
    const i = this.items;
    if (i === undefined || !this.has(item)) return false;
    if (Array.isArray(i)) {
      i.splice(i.indexOf(item), 1);
      if (i.length === 1) this.items = i[0];
    } else if (i instanceof Set) i.delete(item);
    else this.items = undefined;
    return true;
  }

  get size(): number {
    const i = this.items;
    if (i === undefined) return 0;
    if (Array.isArray(i)) return i.length;
    return i instanceof Set ? i.size : 1;
  }

  *[Symbol.iterator](): Iterator<T> {
    const i = this.items;
    if (i === undefined) return;
    if (Array.isArray(i) || i instanceof Set) yield* i;
    else yield i;
  }
}

/** Names kept in the array before a Set is cheaper to search. */
const SMALL_LIMIT = 8;
