import type { Gateway } from '../../src/index.js';
import { ClientPool, startGateway } from '../support/gateway.js';

let gw: Gateway;
const pool = new ClientPool();
beforeEach(async () => {
  gw = await startGateway({ maxErrors: 20 });
});
afterEach(async () => {
  pool.killAll();
  await gw.close();
});

test.each(['constructor', 'toString', '__proto__', 'valueOf', 'hasOwnProperty', 'isPrototypeOf'])(
  'an event named %s (an Object.prototype key) answers unknown_event, never an ack or internal',
  async (event) => {
    const { client } = await pool.connect(gw);
    client.send(event, {}, 'h1');
    const reply = await client.next((f) => f.event === 'system/error' || f.event === 'system/ack');
    expect(reply.event).toBe('system/error');
    expect(reply.payload).toMatchObject({ code: 'unknown_event', event, id: 'h1' });
    // The connection lives on and the gateway still answers.
    client.send('client/heartbeat', undefined, 'h2');
    expect((await client.next('system/ack')).payload).toEqual({ id: 'h2' });
  },
);

test.each([1004, 1005, 999, 5000])('ending a session with close code %i, which may not be sent, closes it 1011 instead', async (code) => {
  const { client, init } = await pool.connect(gw);
  await expect(gw.endSession(init.session_id as string, code, 'bye')).resolves.toBe(true);
  expect((await client.next('system/disconnect')).payload).toMatchObject({ code: 1011, reason: 'internal_error' });
  expect((await client.closed).code).toBe(1011);
});
