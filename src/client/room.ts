import { ClientEvent, ServerEvent, type SessionInfo } from '../protocol/events.js';
import type { WsgateClient } from './client.js';

/** A big room's counts (`room/presence`, docs/protocol.md §4.6). */
export interface RoomPresence {
  room: string;
  count: number;
  connected: number;
}

/** One page of the room's member list (`room/page`). */
export interface RoomPage {
  room: string;
  offset: number;
  total: number;
  sessions: SessionInfo[];
}

/**
 * Follow the room's presence whatever its size: `onChange` gets the member count after every `session/joined`,
 * `session/left` (small rooms) or `room/presence` (big rooms, coalesced by the gateway). Returns the unsubscribe.
 * Starts from `system/init` (`room_size` when the list was cut, else the list's length).
 */
export function followRoomSize(client: WsgateClient, onChange: (count: number) => void): () => void {
  let count = 0;
  const offConnected = client.on('connected', ({ init }) => onChange((count = init.room_size ?? init.sessions.length)));
  const offMessage = client.on('message', (frame) => {
    if (frame.event === ServerEvent.Presence) onChange((count = (frame.payload as RoomPresence).count));
    else if (frame.event === ServerEvent.Joined) onChange(++count);
    else if (frame.event === ServerEvent.Left) onChange((count = Math.max(0, count - 1)));
  });
  return () => {
    offConnected();
    offMessage();
  };
}

/**
 * One page of the room's members, in joining order (`room/list`; the gateway caps `limit` at its presence limit).
 * Rejects like `send` does when the gateway refuses the request.
 */
export async function listRoomMembers(client: WsgateClient, offset = 0, limit?: number): Promise<RoomPage> {
  let off: () => void = () => undefined;
  const page = new Promise<RoomPage>((resolve) => {
    off = client.on('message', (frame) => {
      const p = frame.payload as RoomPage;
      if (frame.event === ServerEvent.RoomPage && p.offset === offset) resolve(p);
    });
  });
  try {
    await client.send(ClientEvent.RoomList, { offset, ...(limit !== undefined ? { limit } : {}) });
    return await page;
  } finally {
    off();
  }
}
