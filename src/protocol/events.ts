/**
 * Event names and payload types of the v3 protocol (docs/protocol.md §2.6, §2.7).
 * Payload types are what the gateway sends or accepts after validation.
 */

/** A profile as given in `client/hello`. */
export interface Profile {
  name?: string;
  [key: string]: unknown;
}

/** One entry of `system/init.sessions`. */
export interface SessionInfo {
  id: string;
  profile: Profile;
  is_connected: boolean;
}

/** The three server→client events that carry no `seq` and are never replayed. */
export const TRANSIENT_EVENTS: ReadonlySet<string> = new Set(['system/init', 'system/heartbeat', 'system/disconnect']);

/** Client → server event names with a meaning in the gateway itself. */
export const ClientEvent = {
  Hello: 'client/hello',
  Heartbeat: 'client/heartbeat',
  Ack: 'client/ack',
  Subscribe: 'channel/subscribe',
  Unsubscribe: 'channel/unsubscribe',
  Publish: 'channel/publish',
  Unicast: 'send/unicast',
  Broadcast: 'send/broadcast',
  /** A page of a big room's member list (docs/protocol.md §4.6). */
  RoomList: 'room/list',
} as const;

/** Server → client event names. */
export const ServerEvent = {
  Init: 'system/init',
  Heartbeat: 'system/heartbeat',
  Ack: 'system/ack',
  Error: 'system/error',
  Disconnect: 'system/disconnect',
  Joined: 'session/joined',
  State: 'session/state',
  Left: 'session/left',
  Subscribed: 'channel/subscribed',
  Unsubscribed: 'channel/unsubscribed',
  Message: 'channel/message',
  Unicast: 'send/unicast',
  Broadcast: 'send/broadcast',
  /** Transient: a big room's member counts, once per presence tick when they changed. */
  Presence: 'room/presence',
  /** The answer to `room/list`. */
  RoomPage: 'room/page',
} as const;

/** A channel position: `offset` counts from 1 within one `epoch` (one history). */
export interface StreamPosition {
  offset: number;
  epoch: string;
}

export interface HelloPayload {
  token?: string;
  resume?: { session_id: string; resume_token: string; last_seq: number };
  room?: string;
  profile?: Profile;
  resumable?: boolean;
}

export interface InitPayload {
  session_id: string;
  resume_token: string;
  resumed: boolean;
  replayed?: number;
  resume_error?: string;
  protocol: 3;
  room: string;
  /** Seconds. */
  ping_interval: number;
  /** Seconds. */
  heartbeat_interval: number;
  /** Seconds. */
  session_ttl: number;
  /** At most `presence_limit` entries, the client's own first; `room_size` says how many there are when cut. */
  sessions: SessionInfo[];
  /** Present when the room is bigger than `presence_limit` (its list was cut). */
  room_size?: number;
  presence_limit?: number;
}

export interface ErrorPayload {
  code: string;
  message: string;
  event?: string;
  id?: string;
}

export interface DisconnectPayload {
  code: number;
  reason: string;
  message: string;
}

export interface ChannelMessagePayload extends StreamPosition {
  channel: string;
  data: unknown;
}

export interface SubscribedPayload extends StreamPosition {
  channel: string;
  recovered: boolean;
  missed?: number;
}

/** A decoded v3 frame, either direction. */
export interface Frame<P = unknown> {
  event: string;
  payload?: P;
  seq?: number;
  id?: string;
}
