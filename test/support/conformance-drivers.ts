/**
 * One tiny client interface over both paths into a room — v3 direct (`/api/ws`) and v2 through the
 * legacy adapter (`/ws`) — so the conformance suite can run the same presence and broadcast checks
 * against each, and the legacy tests can open v2 clients in one line.
 */
import type { Gateway } from '../../src/index.js';
import { connect } from './gateway.js';
import { TestClient, type Received } from './ws-client.js';

/** A v2 frame is flat: read its fields. */
export const flat = (f: Received): Record<string, unknown> => f as unknown as Record<string, unknown>;

/** A joined v2 client: its socket, its session id and the `member/list` it got first. */
export interface V2Joined {
  client: TestClient;
  id: string;
  members: { id: string; displayname: string }[];
  heartbeatInterval: number;
}

/** Open a v2 client at the gateway's `/ws` and wait for `member/list` + `system/init`. */
export async function v2Join(baseUrl: string, username: string, opts: { password?: string; answerPings?: boolean; room?: string } = {}): Promise<V2Joined> {
  const query = new URLSearchParams({ username, password: opts.password ?? 'pw', ...(opts.room ? { room: opts.room } : {}) });
  const client = new TestClient(`${baseUrl}/ws?${query}`, { answerPings: opts.answerPings });
  await client.open();
  const list = flat(await client.next('member/list'));
  const init = flat(await client.next('system/init'));
  return { client, id: init.id as string, members: list.members as V2Joined['members'], heartbeatInterval: init.heartbeat_interval as number };
}

/** The ws:// origin of a gateway (for `/ws` URLs). */
export const wsBase = (gw: Gateway): string => gw.url('/ws').replace(/\/ws$/, '');

/** One member of a room as the conformance suite sees it, whichever protocol it speaks. */
export interface RoomClient {
  readonly id: string;
  /** Names of the other connected members at join time (own excluded). */
  readonly initialNames: string[];
  say(text: string): void;
  /** Wait for the next chat line from another member: its sender id and text. */
  nextChat(): Promise<{ from: string; text: string }>;
  /** Wait for another member to join; its id and name. */
  nextJoin(): Promise<{ id: string; name: string }>;
  /** Wait for another member to leave; its id. */
  nextLeave(): Promise<string>;
  /** Leave for good (close 1000). */
  leave(): Promise<void>;
  /** Vanish without a close frame. */
  kill(): void;
}

/** How a path opens a room member. */
export interface RoomDriver {
  join(name: string): Promise<RoomClient>;
}

const closeAndWait = async (c: TestClient): Promise<void> => {
  c.close(1000);
  await c.closed;
};

/** v3 clients straight at `/api/ws`: presence is `session/*`, chat is `send/broadcast` subject `chat/message`. */
export function v3Driver(gw: Gateway): RoomDriver {
  return {
    async join(name) {
      const { client, init } = await connect(gw, { profile: { name } });
      const sessions = init.sessions as { id: string; profile: { name?: string }; is_connected: boolean }[];
      const id = init.session_id as string;
      return {
        id,
        initialNames: sessions.filter((s) => s.id !== id && s.is_connected).map((s) => s.profile.name ?? ''),
        say: (text) => client.send('send/broadcast', { subject: 'chat/message', body: { text } }),
        nextChat: async () => {
          const p = (await client.next('send/broadcast')).payload as { sender: string; body: { text: string } };
          return { from: p.sender, text: p.body.text };
        },
        nextJoin: async () => {
          const p = (await client.next('session/joined')).payload as { id: string; profile: { name: string } };
          return { id: p.id, name: p.profile.name };
        },
        nextLeave: async () => ((await client.next('session/left')).payload as { id: string }).id,
        leave: () => closeAndWait(client),
        kill: () => client.kill(),
      };
    },
  };
}

/** v2 clients at `/ws` through the legacy adapter: presence is `member/*`, chat is `chat/message`. */
export function v2Driver(gw: Gateway): RoomDriver {
  return {
    async join(name) {
      const { client, id, members } = await v2Join(wsBase(gw), name);
      return {
        id,
        initialNames: members.filter((m) => m.id !== id).map((m) => m.displayname),
        say: (text) => client.raw(JSON.stringify({ event: 'chat/message', content: text })),
        nextChat: async () => {
          const f = flat(await client.next('chat/message'));
          return { from: f.id as string, text: f.content as string };
        },
        nextJoin: async () => {
          const f = flat(await client.next('member/connected'));
          return { id: f.id as string, name: f.displayname as string };
        },
        nextLeave: async () => flat(await client.next('member/disconnected')).id as string,
        leave: () => closeAndWait(client),
        kill: () => client.kill(),
      };
    },
  };
}
