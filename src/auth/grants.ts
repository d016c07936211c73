/**
 * What a token lets a session do: the rooms it may join and the channels it may subscribe to and
 * publish on, from a JWT's `rooms` and `channels` claims (docs/security.md, "Tokens").
 *
 * A pattern is an exact name, or a prefix followed by `*` (`news:*`; `*` alone is everything).
 * An absent claim leaves that part unrestricted; an empty list allows nothing.
 */

/** Longest list accepted in one claim: a token is outside data too, and each check walks the list. */
export const MAX_PATTERNS = 256;

const PATTERN = /^[A-Za-z0-9_\-:./]{0,128}\*?$/;

/** A set of name patterns; `undefined` patterns means "anything". */
class PatternSet {
  private readonly exact = new Set<string>();
  private readonly prefixes: string[] = [];

  constructor(readonly patterns: readonly string[] | undefined) {
    for (const p of patterns ?? []) {
      if (p.endsWith('*')) this.prefixes.push(p.slice(0, -1));
      else this.exact.add(p);
    }
  }

  allows(name: string): boolean {
    if (this.patterns === undefined) return true;
    return this.exact.has(name) || this.prefixes.some((prefix) => name.startsWith(prefix));
  }

  /** The first exact (non-wildcard) name, the room a hello without one lands in. */
  firstExact(): string | undefined {
    return this.patterns?.find((p) => !p.endsWith('*'));
  }
}

/** The checked claims: what the session may join, subscribe to and publish on. */
export class Grants {
  private readonly rooms: PatternSet;
  private readonly subscribe: PatternSet;
  private readonly publish: PatternSet;

  private constructor(rooms?: readonly string[], subscribe?: readonly string[], publish?: readonly string[]) {
    this.rooms = new PatternSet(rooms);
    this.subscribe = new PatternSet(subscribe);
    this.publish = new PatternSet(publish);
  }

  /** No restriction (no token, or a token without `rooms`/`channels`). */
  static readonly all = new Grants();

  /**
   * Read the `rooms` and `channels` claims. `channels` is a list (subscribe and publish) or
   * `{subscribe?: [...], publish?: [...]}` (a missing key there allows nothing).
   * Returns a message naming the claim when one is malformed.
   */
  static fromClaims(rooms: unknown, channels: unknown): Grants | string {
    const r = patternList(rooms, 'rooms');
    if (typeof r === 'string') return r;
    if (channels === undefined || Array.isArray(channels)) {
      const c = patternList(channels, 'channels');
      return typeof c === 'string' ? c : new Grants(r, c, c);
    }
    if (typeof channels !== 'object' || channels === null) return 'claim "channels" must be a list or {subscribe, publish}';
    const { subscribe, publish } = channels as Record<string, unknown>;
    const s = patternList(subscribe ?? [], 'channels.subscribe');
    if (typeof s === 'string') return s;
    const p = patternList(publish ?? [], 'channels.publish');
    return typeof p === 'string' ? p : new Grants(r, s, p);
  }

  /** May the session live in `room`? */
  mayJoin(room: string): boolean {
    return this.rooms.allows(room);
  }

  /** May the session subscribe to `channel`? */
  maySubscribe(channel: string): boolean {
    return this.subscribe.allows(channel);
  }

  /** May the session publish on `channel`? */
  mayPublish(channel: string): boolean {
    return this.publish.allows(channel);
  }

  /** The room for a hello that names none: the token's first exact room, else `fallback`. */
  defaultRoom(fallback: string): string {
    return this.rooms.firstExact() ?? fallback;
  }
}

function patternList(value: unknown, claim: string): string[] | undefined | string {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) return `claim "${claim}" must be a list of names`;
  if (value.length > MAX_PATTERNS) return `claim "${claim}" lists more than ${MAX_PATTERNS} names`;
  for (const p of value) {
    if (typeof p !== 'string' || p === '' || !PATTERN.test(p)) return `claim "${claim}" holds a bad name pattern`;
  }
  return value as string[];
}
