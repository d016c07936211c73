import { gatewayTestHooks } from '../../src/gateway.js';
import { api } from '../support/http-api.js';
import { connect, startGateway } from '../support/gateway.js';
import { TestClient } from '../support/ws-client.js';

test('a 1012 drain keeps the session resumable, with what was queued for it', async () => {
  const gw = await startGateway({ heartbeatInterval: 0, pingInterval: 0 });
  try {
    const { client, init } = await connect(gw);
    await gatewayTestHooks(gw).drainConnections();
    expect((await client.closed).code).toBe(1012);
    const list = (await api(gw, 'GET', '/api/sessions')).body as { sessions: { id: string; is_connected: boolean }[] };
    expect(list.sessions).toEqual([expect.objectContaining({ id: init.session_id, is_connected: false })]);
    expect((await api(gw, 'POST', `/api/sessions/${init.session_id as string}/send`, { event: 'app/later' })).status).toBe(202);
    // Another process would take the client back; here the same one reopens its door to show the session survived.
    gatewayTestHooks(gw).front.acceptingUpgrades = true;
    const back = new TestClient(gw.url('/api/ws'));
    const resumed = await back.hello({ resume: { session_id: init.session_id, resume_token: init.resume_token, last_seq: client.lastSeq } });
    expect(resumed).toMatchObject({ resumed: true, replayed: 1 });
    await back.next('app/later');
    back.close();
  } finally {
    await gw.close();
  }
});
