import type { Frame } from '../../src/protocol/index.js';
import { v2ToV3, v3ToV2, V2_TO_V3, V3_TO_V2 } from '../../legacy-adapter/translate.js';
import type { V2Frame } from '../../legacy-adapter/v2-codec.js';

const up = (frame: V2Frame): Frame => {
  const r = v2ToV3(frame);
  if (!r.ok) throw new Error(`refused: ${JSON.stringify(r.error)}`);
  return r.frame;
};

describe('v2 → v3 table', () => {
  it('client/heartbeat → client/heartbeat (no payload)', () => {
    expect(up({ event: 'client/heartbeat' })).toEqual({ event: 'client/heartbeat' });
  });

  it('chat/message {content} → send/broadcast {subject:"chat/message", body:{text}}', () => {
    expect(up({ event: 'chat/message', content: 'hello' })).toEqual({
      event: 'send/broadcast',
      payload: { subject: 'chat/message', body: { text: 'hello' } },
    });
  });

  it('chat/emote {emote} → send/broadcast {subject:"chat/emote", body:{emote}}', () => {
    expect(up({ event: 'chat/emote', emote: 'wave' })).toEqual({
      event: 'send/broadcast',
      payload: { subject: 'chat/emote', body: { emote: 'wave' } },
    });
  });

  it('any other {event, ...fields} → {event, payload:{...fields}}', () => {
    expect(up({ event: 'control/request', host: true, n: 1 })).toEqual({ event: 'control/request', payload: { host: true, n: 1 } });
    expect(up({ event: 'app/ping' })).toEqual({ event: 'app/ping', payload: {} });
  });

  it.each([
    [{ event: 'chat/message' }, 'chat/message needs a string "content"'],
    [{ event: 'chat/message', content: 5 }, 'chat/message needs a string "content"'],
    [{ event: 'chat/emote', emote: { x: 1 } }, 'chat/emote needs a string "emote"'],
  ])('refuses %j with v2 bad_message', (frame, message) => {
    expect(v2ToV3(frame)).toEqual({ ok: false, error: { event: 'system/error', title: 'bad_message', message } });
  });

  it('does not treat inherited object keys as table rows', () => {
    expect(up({ event: 'toString', a: 1 })).toEqual({ event: 'toString', payload: { a: 1 } });
  });

  it('has a row for exactly the three special v2 events', () => {
    expect(Object.keys(V2_TO_V3).sort()).toEqual(['chat/emote', 'chat/message', 'client/heartbeat']);
  });
});

describe('v3 → v2 table', () => {
  it('system/init → member/list (connected sessions only), then system/init {id, heartbeat_interval}', () => {
    const init: Frame = {
      event: 'system/init',
      payload: {
        session_id: 'me',
        resume_token: 'secret',
        resumed: false,
        protocol: 3,
        room: 'main',
        ping_interval: 10,
        heartbeat_interval: 60,
        session_ttl: 120,
        sessions: [
          { id: 'me', profile: { name: 'Ann' }, is_connected: true },
          { id: 'gone', profile: { name: 'Bob' }, is_connected: false },
          { id: 'anon', profile: {}, is_connected: true },
        ],
      },
    };
    expect(v3ToV2(init)).toEqual([
      { event: 'member/list', members: [{ id: 'me', displayname: 'Ann' }, { id: 'anon', displayname: '' }] },
      { event: 'system/init', id: 'me', heartbeat_interval: 60 },
    ]);
  });

  it.each(['system/heartbeat', 'system/ack', 'session/state', 'channel/subscribed', 'channel/unsubscribed', 'channel/message', 'room/presence', 'room/page'])(
    '%s is not sent',
    (event) => {
      expect(v3ToV2({ event, seq: 3, payload: { id: 'x', channel: 'c', offset: 1, epoch: 'e', data: 1 } })).toEqual([]);
    },
  );

  it('system/error {code, message} → system/error {title: code, message}', () => {
    expect(v3ToV2({ event: 'system/error', seq: 2, payload: { code: 'unknown_event', message: 'no handler', event: 'x/y' } })).toEqual([
      { event: 'system/error', title: 'unknown_event', message: 'no handler' },
    ]);
  });

  it('system/disconnect {reason, message} → system/disconnect {title: reason, message}', () => {
    expect(v3ToV2({ event: 'system/disconnect', payload: { code: 4100, reason: 'heartbeat_timeout', message: 'quiet' } })).toEqual([
      { event: 'system/disconnect', title: 'heartbeat_timeout', message: 'quiet' },
    ]);
  });

  it('session/joined {id, profile} → member/connected {id, displayname}', () => {
    expect(v3ToV2({ event: 'session/joined', seq: 4, payload: { id: 's2', profile: { name: 'Bob' } } })).toEqual([
      { event: 'member/connected', id: 's2', displayname: 'Bob' },
    ]);
  });

  it('session/left {id} → member/disconnected {id}', () => {
    expect(v3ToV2({ event: 'session/left', seq: 5, payload: { id: 's2', reason: 'normal' } })).toEqual([
      { event: 'member/disconnected', id: 's2' },
    ]);
  });

  it('send/broadcast chat/message → chat/message {id: sender, content: body.text}', () => {
    const frame = { event: 'send/broadcast', seq: 6, payload: { sender: 's2', subject: 'chat/message', body: { text: 'yo' } } };
    expect(v3ToV2(frame)).toEqual([{ event: 'chat/message', id: 's2', content: 'yo' }]);
  });

  it('send/broadcast chat/emote → chat/emote {id: sender, emote: body.emote}', () => {
    const frame = { event: 'send/broadcast', seq: 7, payload: { sender: 's2', subject: 'chat/emote', body: { emote: 'wave' } } };
    expect(v3ToV2(frame)).toEqual([{ event: 'chat/emote', id: 's2', emote: 'wave' }]);
  });

  it('send/broadcast with another subject is not sent', () => {
    expect(v3ToV2({ event: 'send/broadcast', payload: { sender: 's2', subject: 'game/move', body: { x: 1 } } })).toEqual([]);
  });

  it.each(['constructor', 'toString', '__proto__', 'valueOf', 'hasOwnProperty'])('send/broadcast with subject %s (an inherited key) is not sent', (subject) => {
    expect(v3ToV2({ event: 'send/broadcast', payload: { sender: 's2', subject, body: { x: 1 } } })).toEqual([]);
  });

  it('any other {event, payload} with an object payload → {event, ...payload}, without seq or id', () => {
    const frame = { event: 'send/unicast', seq: 8, id: 'i', payload: { sender: 's2', receiver: 'me', subject: 's', body: 1 } };
    expect(v3ToV2(frame)).toEqual([{ event: 'send/unicast', sender: 's2', receiver: 'me', subject: 's', body: 1 }]);
  });

  it('a payload field named "event" does not replace the event', () => {
    expect(v3ToV2({ event: 'app/x', payload: { event: 'evil', a: 1 } })).toEqual([{ event: 'app/x', a: 1 }]);
  });

  it.each([[42], ['text'], [[1, 2]], [null], [true]])('a non-object payload %j reaches v2 as {event, payload}', (payload) => {
    expect(v3ToV2({ event: 'app/value', seq: 9, payload })).toEqual([{ event: 'app/value', payload }]);
  });

  it('an event without payload reaches v2 as {event}', () => {
    expect(v3ToV2({ event: 'app/poke', seq: 10 })).toEqual([{ event: 'app/poke' }]);
  });

  it('has a row for every special v3 event of §7', () => {
    expect(Object.keys(V3_TO_V2).sort()).toEqual([
      'send/broadcast',
      'session/joined',
      'session/left',
      'session/state',
      'system/ack',
      'system/disconnect',
      'system/error',
      'system/heartbeat',
      'system/init',
    ]);
  });
});

describe('v2 → v3 → v2 (what another v2 client sees)', () => {
  // The gateway adds the sender and strips nothing else: model that hop to check both tables agree.
  const viaGateway = (f: Frame): Frame => ({ event: f.event, seq: 1, payload: { sender: 'me', ...(f.payload as object) } });

  it.each([
    [{ event: 'chat/message', content: 'hi there' }, { event: 'chat/message', id: 'me', content: 'hi there' }],
    [{ event: 'chat/emote', emote: 'clap' }, { event: 'chat/emote', id: 'me', emote: 'clap' }],
  ])('%j arrives as %j', (sent, seen) => {
    expect(v3ToV2(viaGateway(up(sent)))).toEqual([seen]);
  });

  it('a generic event keeps its fields', () => {
    expect(v3ToV2({ ...up({ event: 'app/echo', a: 1, b: 'two' }), seq: 1 })).toEqual([{ event: 'app/echo', a: 1, b: 'two' }]);
  });
});
