import type { Logger } from 'pino';
import { encodeFrame } from '../protocol/codec.js';
import { ServerEvent } from '../protocol/events.js';
import { sendSliced } from '../session/room-presence.js';
import type { Session } from '../session/session.js';
import type { Clock, TimerHandle } from '../time/clock.js';

/** Reads, in one round trip, each room's members and how many of them are connected. */
export type CountReader = (rooms: string[]) => Promise<{ count: number; connected: number }[]>;

/** This process's members of one room, and the room's presence tick here. */
interface LocalRoom {
  members: Set<Session>;
  /** The room's size as last read from Redis (a hello, a page, a count). */
  size: number;
  /** The pending read of the counts, if any. */
  timer: TimerHandle | undefined;
  /** A note came after the timer was set: its changes may follow that read, so one more read is due. */
  again: boolean;
  /** The last `room/presence` frame sent here (the same snapshot is not sent twice). */
  sent: string | undefined;
}

/**
 * Big-room presence across processes (docs/protocol.md §4.6, docs/scaling.md). The Lua scripts note a change of a
 * room over the presence limit on the `rooms` channel at most once per tick (a key with that TTL); each process with
 * members in the room reads its two counts once, a tick after the note, and writes one `room/presence` frame,
 * encoded once, to its connected members there. Cost per big room and tick: one note, one read per process — not
 * one frame per join per member, nor one Redis read per member.
 *
 * The read waits a full tick after the note because changes inside that tick publish nothing: reading sooner could
 * miss the last of them. A note that arrives while a read is pending earns one more read a tick later.
 */
export class SharedRoomPresence {
  private readonly rooms = new Map<string, LocalRoom>();

  constructor(
    private readonly clock: Clock,
    private readonly tickMs: number,
    private readonly read: CountReader,
    private readonly logger: Logger,
  ) {}

  /** A session of this process is in `session.room` (new, or resumed here). */
  add(session: Session): void {
    let r = this.rooms.get(session.room);
    if (!r) this.rooms.set(session.room, (r = { members: new Set(), size: 0, timer: undefined, again: false, sent: undefined }));
    r.members.add(session);
  }

  /** The session left this process (ended, or moved to another). */
  remove(session: Session): void {
    const r = this.rooms.get(session.room);
    if (!r?.members.delete(session) || r.members.size > 0) return;
    if (r.timer !== undefined) this.clock.clearTimeout(r.timer);
    this.rooms.delete(session.room);
  }

  /** A size read from Redis for a room with members here (a hello's list, a page). */
  sized(room: string, size: number): void {
    const r = this.rooms.get(room);
    if (r) r.size = size;
  }

  /** The room's size as last read, 0 when it has no member here. */
  size(room: string): number {
    return this.rooms.get(room)?.size ?? 0;
  }

  /** A process noted a change of a big room (the `rooms` channel): its members here hear the counts next tick. */
  noticed(room: string): void {
    const r = this.rooms.get(room);
    if (!r) return;
    if (r.timer !== undefined) r.again = true;
    else r.timer = this.clock.setTimeout(() => void this.flush(room, r), this.tickMs);
  }

  /** Notes may have been lost (the subscriber reconnected): every room here is read again next tick. */
  noticedAll(): void {
    for (const room of this.rooms.keys()) this.noticed(room);
  }

  /** Shutdown: no more reads. */
  stop(): void {
    for (const r of this.rooms.values()) if (r.timer !== undefined) this.clock.clearTimeout(r.timer);
    this.rooms.clear();
  }

  private async flush(room: string, r: LocalRoom): Promise<void> {
    r.timer = undefined;
    if (r.again) {
      r.again = false;
      this.noticed(room);
    }
    let counts: { count: number; connected: number } | undefined;
    try {
      [counts] = await this.read([room]);
    } catch (err) {
      // Redis is away: the resync after it comes back reads every room again (noticedAll).
      this.logger.debug({ err: (err as Error).message, room }, 'room counts not read');
      return;
    }
    if (!counts || this.rooms.get(room) !== r) return;
    r.size = counts.count;
    const text = encodeFrame({ event: ServerEvent.Presence, payload: { room, count: counts.count, connected: counts.connected } });
    if (text === r.sent) return;
    r.sent = text;
    sendSliced([...r.members], text, 0);
  }
}
