import { encodeFrame } from '../protocol/codec.js';
import { ServerEvent } from '../protocol/events.js';
import type { Clock, TimerHandle } from '../time/clock.js';
import type { Session } from './session.js';

/** Sessions handed to the sockets per turn of the event loop when a big room hears its counts. */
const SEND_SLICE = 2000;

/**
 * Presence of big rooms (docs/protocol.md §4.6): a room whose members would be more than
 * `limit` hears no `session/joined`, `session/state` or `session/left`; every change is noted, and once per
 * `tickMs` each changed room gets one transient `room/presence {room, count, connected}`, encoded once for all its
 * members. That keeps a room of n filling up at O(n) frames per tick instead of O(n²) frames in all.
 */
export class RoomPresence {
  private readonly dirty = new Set<string>();
  private timer: TimerHandle | undefined;

  constructor(
    private readonly clock: Clock,
    /** Members above which a room is big (the `presence_limit` option). */
    readonly limit: number,
    /** Coalescing tick, ms. */
    private readonly tickMs: number,
    /** The room's members now (undefined: the room is gone). */
    private readonly members: (room: string) => (Iterable<Session> & { readonly size: number }) | undefined,
  ) {}

  /** Is a room of `size` members (the one joining or leaving counted) big? */
  isBig(size: number): boolean {
    return size > this.limit;
  }

  /** A member of a big room joined, left, or connected or disconnected: its next tick tells the room. */
  changed(room: string): void {
    this.dirty.add(room);
    this.timer ??= this.clock.setTimeout(() => this.flush(), this.tickMs);
  }

  /** Stop the tick (shutdown). */
  stop(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.dirty.clear();
  }

  private flush(): void {
    this.timer = undefined;
    const rooms = [...this.dirty];
    this.dirty.clear();
    for (const room of rooms) {
      const members = this.members(room);
      if (!members) continue;
      let connected = 0;
      for (const s of members) if (s.isConnected) connected++;
      const text = encodeFrame({ event: ServerEvent.Presence, payload: { room, count: members.size, connected } });
      sendSliced([...members], text, 0);
    }
  }
}

/** Write `text` to each connected session, a slice per turn of the event loop (a big room must not hold it). */
export function sendSliced(targets: Session[], text: string, from: number): void {
  const end = Math.min(targets.length, from + SEND_SLICE);
  for (let i = from; i < end; i++) targets[i]!.link?.sendText(text);
  if (end < targets.length) setImmediate(() => sendSliced(targets, text, end));
}
