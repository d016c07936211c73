import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGateway } from '../../src/index.js';
import { TestClient } from '../support/ws-client.js';

test('attaches to an existing http server: its own routes keep working next to /api/ws', async () => {
  const server = http.createServer();
  const gw = createGateway({ server, logLevel: 'silent', processMetrics: false });
  gw.route('GET', '/app/hello', (_req, res) => void res.end('from the app'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  expect(await (await fetch(`http://127.0.0.1:${port}/app/hello`)).text()).toBe('from the app');
  expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  const c = new TestClient(`ws://127.0.0.1:${port}/api/ws`);
  const init = await c.hello({ profile: { name: 'lib' } });
  expect(init.protocol).toBe(3);
  c.kill();
  await gw.close();
  expect(server.listening).toBe(false);
});

test('a bad option fails at creation, naming it', () => {
  expect(() => createGateway({ pingTimeout: -1 })).toThrow('--ping-timeout');
  expect(() => createGateway({ nonsense: 1 } as never)).toThrow('nonsense');
});

test('a crashing application handler answers internal and the gateway keeps serving everyone', async () => {
  const gw = createGateway({ port: 0, host: '127.0.0.1', logLevel: 'silent', processMetrics: false });
  await gw.listen();
  gw.handle('app/crash', async () => {
    await Promise.resolve();
    throw new TypeError('cannot read properties of undefined');
  });
  const a = new TestClient(gw.url());
  await a.hello();
  for (let i = 0; i < 5; i++) a.send('app/crash', {}, `c${i}`);
  await a.next((f) => (f.payload as { id?: string })?.id === 'c4');
  expect(a.all('system/error').map((f) => (f.payload as { code: string }).code)).toEqual(Array(5).fill('internal'));
  const b = new TestClient(gw.url());
  expect((await b.hello()).protocol).toBe(3);
  a.kill();
  b.kill();
  await gw.close();
});
