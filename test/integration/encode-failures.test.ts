import type { Gateway } from '../../src/index.js';
import { ClientPool, startGateway } from '../support/gateway.js';
import { TestClient } from '../support/ws-client.js';

let gw: Gateway;
const pool = new ClientPool();
beforeAll(async () => {
  gw = await startGateway({ heartbeatInterval: 0, pingInterval: 0 });
  gw.handle('app/bigint', (ctx) => ctx.reply('app/answer', { n: 10n }));
});
afterEach(() => pool.killAll());
afterAll(() => gw.close());

/** Payloads JSON cannot express, as a library user might pass them. */
const unencodable: [string, () => unknown][] = [
  ['a BigInt', () => ({ n: 1n })],
  ['a toJSON that throws', () => ({ toJSON: () => { throw new Error('nope'); } })],
  ['a cycle', () => { const a: Record<string, unknown> = {}; a.self = a; return a; }],
];

describe('a payload that cannot be encoded leaves no seq or offset hole', () => {
  test.each(unencodable)('sendTo with %s throws; the seq stays contiguous and a resume replays everything', async (_what, make) => {
    const { client, init } = await pool.connect(gw, { room: 'enc' });
    const id = init.session_id as string;
    await expect(gw.sendTo(id, 'app/one', { k: 1 })).resolves.toBe(true);
    expect(() => gw.sendTo(id, 'app/bad', make())).toThrow(TypeError);
    await expect(gw.sendTo(id, 'app/two', { k: 2 })).resolves.toBe(true);
    const one = await client.next('app/one');
    const two = await client.next('app/two');
    expect(two.seq).toBe(one.seq! + 1);
    // Drop the socket: a resume from before both messages gets exactly those two, then the session works on.
    client.kill();
    const again = pool.track(new TestClient(gw.url('/api/ws')));
    const resumed = await again.hello({ resume: { session_id: id, resume_token: init.resume_token, last_seq: one.seq! - 1 } });
    expect(resumed).toMatchObject({ resumed: true, replayed: 2 });
    expect((await again.next('app/one')).seq).toBe(one.seq);
    expect((await again.next('app/two')).seq).toBe(two.seq);
    again.send('client/heartbeat', undefined, 'after');
    expect((await again.next('system/ack')).seq).toBe(two.seq! + 1);
  });

  test.each(unencodable)('publish with %s rejects without taking an offset; the next publish is the next offset', async (_what, make) => {
    const { client } = await pool.connect(gw);
    client.send('channel/subscribe', { channel: 'enc' });
    const sub = (await client.next('channel/subscribed')).payload as { offset: number; epoch: string };
    await expect(gw.publish('enc', make())).rejects.toThrow(TypeError);
    const pos = await gw.publish('enc', { ok: true });
    expect(pos.offset).toBe(sub.offset + 1);
    expect((await client.next('channel/message')).payload).toMatchObject({ offset: sub.offset + 1, data: { ok: true } });
    // Recovery across the refused publish works (a hole here used to fail with `internal`).
    const late = (await pool.connect(gw)).client;
    late.send('channel/subscribe', { channel: 'enc', since: { offset: sub.offset, epoch: sub.epoch } });
    expect((await late.next('channel/subscribed')).payload).toMatchObject({ recovered: true });
    expect((await late.next('channel/message')).payload).toMatchObject({ offset: sub.offset + 1 });
  });

  test('an application handler replying with a BigInt answers `internal`; the session carries on with no hole', async () => {
    const { client } = await pool.connect(gw);
    client.send('app/bigint', {}, 'b1');
    const err = await client.next('system/error');
    expect(err.payload).toMatchObject({ code: 'internal', id: 'b1' });
    client.send('client/heartbeat', undefined, 'b2');
    const ack = await client.next('system/ack');
    expect(ack.seq).toBe(err.seq! + 1);
  });
});
