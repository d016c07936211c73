import type { Gateway } from '../../src/index.js';
import { ClientPool, startGateway } from '../support/gateway.js';
import { api } from '../support/http-api.js';
import { TestClient } from '../support/ws-client.js';

let gw: Gateway;
const pool = new ClientPool();
afterEach(async () => {
  pool.killAll();
  await gw.close();
});

type Listing = { sessions: { id: string; room: string }[] };

test('a session whose hello fails half-way (a profile the room cannot be sent) leaves nothing behind', async () => {
  // The application's authenticate hands back a profile JSON cannot encode: the session is made, then cannot be announced.
  gw = await startGateway({ authenticate: (hello) => (hello.token === 'bad' ? { profile: { n: 1n } as unknown as Record<string, unknown> } : true) });
  const { client: watcher, init: w } = await pool.connect(gw, { room: 'r' });
  const broken = pool.track(new TestClient(gw.url()));
  await broken.open();
  broken.send('client/hello', { token: 'bad', room: 'r' });
  expect((await broken.closed).code).toBe(1011);
  expect(broken.all('system/init')).toEqual([]);

  const listed = (await api(gw, 'GET', '/api/sessions')).body as Listing;
  expect(listed.sessions.map((s) => s.id)).toEqual([w.session_id]);
  const { init: late } = await pool.connect(gw, { room: 'r' });
  expect((late.sessions as { id: string }[]).map((s) => s.id).sort()).toEqual([w.session_id, late.session_id].sort());
  // The watcher heard of the newcomer only: the broken session never joined (and so never needs to leave).
  await watcher.next('session/joined');
  expect(watcher.all('session/joined').map((f) => (f.payload as { id: string }).id)).toEqual([late.session_id]);
  expect(watcher.all('session/left')).toEqual([]);
});

test('alone in its room too: the failed session is not listed and the room stays empty', async () => {
  gw = await startGateway({ authenticate: () => ({ profile: { n: 1n } as unknown as Record<string, unknown> }) });
  const broken = pool.track(new TestClient(gw.url()));
  await broken.open();
  broken.send('client/hello', { room: 'alone' });
  expect((await broken.closed).code).toBe(1011);
  expect(((await api(gw, 'GET', '/api/sessions')).body as Listing).sessions).toEqual([]);
  expect(gw.sessions()).toEqual([]);
});
