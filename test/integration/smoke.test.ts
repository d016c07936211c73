import { connect, startGateway } from '../support/gateway.js';

test('hello and init', async () => {
  const gw = await startGateway();
  const { client, init } = await connect(gw, { profile: { name: 'a' } });
  expect(init.protocol).toBe(3);
  const b = await connect(gw, { profile: { name: 'b' } });
  const joined = await client.next('session/joined');
  expect(joined.seq).toBe(1);
  client.close(); b.client.close();
  await gw.close();
});
