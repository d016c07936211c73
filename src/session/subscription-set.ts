/**
 * The channels one session is subscribed to: the part of `Set<string>` the gateway uses, without a hash table
 * for the usual one or few channels. A `Set` costs about 150 bytes even for one entry (its object and its
 * smallest table); most sessions hold one subscription, so this keeps up to a few names in a plain array.
 * Channels per session are bounded (`--max-subscriptions`), so the linear search stays short; past
 * SMALL_LIMIT names it switches to a real Set.
 */
export class SubscriptionSet implements Iterable<string> {
  /** undefined: none; a string: one; an array: a few; a Set: many. */
  private items: string | string[] | Set<string> | undefined;

  has(channel: string): boolean {
    const i = this.items;
    if (i === undefined) return false;
    if (typeof i === 'string') return i === channel;
    return Array.isArray(i) ? i.includes(channel) : i.has(channel);
  }

  add(channel: string): this {
    const i = this.items;
    if (i === undefined) this.items = channel;
    else if (this.has(channel)) return this;
    else if (typeof i === 'string') this.items = [i, channel];
    else if (Array.isArray(i)) {
      if (i.length < SMALL_LIMIT) i.push(channel);
      else this.items = new Set([...i, channel]);
    } else i.add(channel);
    return this;
  }

  delete(channel: string): boolean {
    const i = this.items;
    if (i === undefined || !this.has(channel)) return false;
    if (typeof i === 'string') this.items = undefined;
    else if (Array.isArray(i)) {
      i.splice(i.indexOf(channel), 1);
      if (i.length === 1) this.items = i[0];
    } else i.delete(channel);
    return true;
  }

  get size(): number {
    const i = this.items;
    if (i === undefined) return 0;
    if (typeof i === 'string') return 1;
    return Array.isArray(i) ? i.length : i.size;
  }

  *[Symbol.iterator](): Iterator<string> {
    const i = this.items;
    if (i === undefined) return;
    if (typeof i === 'string') yield i;
    else yield* i;
  }
}

/** Names kept in the array before a Set is cheaper to search. */
const SMALL_LIMIT = 8;
