import type { Gateway } from '../../src/index.js';
import { startGateway } from '../support/gateway.js';
import { api, metric, until } from '../support/http-api.js';
import { encodeRawFrame, Opcode, RawWsClient, type RawFrame } from '../support/raw-ws.js';

let gw: Gateway;
beforeAll(async () => {
  gw = await startGateway({ maxPayload: 1024 });
});
afterAll(() => gw.close());

/** A raw client with a session: hello sent by hand, system/init read back. */
async function helloed(): Promise<{ client: RawWsClient; id: string; token: string }> {
  const client = await RawWsClient.open(gw.port);
  client.sendText(JSON.stringify({ event: 'client/hello', payload: { room: 'raw' } }));
  const init = (await client.next((m) => m.event === 'system/init', 'system/init')).payload as Record<string, string>;
  return { client, id: init.session_id!, token: init.resume_token! };
}

const text = (payload: Buffer, extra: Partial<RawFrame> = {}): Buffer => encodeRawFrame({ opcode: Opcode.Text, payload, ...extra });

// Each case is a frame `ws` itself refuses, before the gateway sees a message.
const cases: [string, number, () => Buffer][] = [
  ['a text frame that is not UTF-8', 1007, () => text(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]))],
  ['a lone surrogate encoded as UTF-8 (CESU)', 1007, () => text(Buffer.from([0xed, 0xa0, 0x80]))],
  ['a frame over max_payload', 1009, () => text(Buffer.alloc(1025, 0x20))],
  ['an unknown opcode', 1002, () => encodeRawFrame({ opcode: 0x3, payload: Buffer.from('x') })],
  ['an unmasked client frame', 1002, () => text(Buffer.from('{}'), { mask: false })],
  ['RSV bits without an extension', 1002, () => text(Buffer.from('{}'), { rsv: 4 })],
  ['a fragmented ping', 1002, () => encodeRawFrame({ opcode: Opcode.Ping, payload: Buffer.alloc(0), fin: false })],
  ['a close frame with an invalid code', 1002, () => encodeRawFrame({ opcode: Opcode.Close, payload: Buffer.from([0x03, 0xe7]) })],
];

describe('closes that ws itself starts reach the session with their real code', () => {
  test.each(cases)('%s → close %i, the session ends, the metric counts that code', async (_what, code, frame) => {
    const before = metric(String((await api(gw, 'GET', '/metrics')).body), 'wsgate_closes_total', { code: String(code) });
    const { client, id, token } = await helloed();
    expect(gw.session(id)).toBeDefined();
    client.write(frame());
    expect(await client.closed).toBe(code);
    // Not resumable: the protocol's close table ends the session on a server close with this code.
    await until(() => gw.session(id) === undefined, 3000, 'the session to end');
    const scrape = String((await api(gw, 'GET', '/metrics')).body);
    expect(metric(scrape, 'wsgate_closes_total', { code: String(code) })).toBe(before + 1);
    const again = await RawWsClient.open(gw.port);
    again.sendText(JSON.stringify({ event: 'client/hello', payload: { resume: { session_id: id, resume_token: token, last_seq: 0 } } }));
    const init = (await again.next((m) => m.event === 'system/init')).payload as Record<string, unknown>;
    expect(init.resumed).toBe(false);
    expect(init.resume_error).toBe('unknown_session');
    again.destroy();
  });

  test('a peer that drops without a close frame still counts 1006 and stays resumable', async () => {
    const { client, id } = await helloed();
    client.destroy();
    await until(() => gw.session(id)?.isConnected === false, 3000, 'the session to be disconnected');
    expect(gw.session(id)).toBeDefined();
  });
});
