import type { Gateway } from '../../src/index.js';
import { connect, startGateway } from '../support/gateway.js';
import type { TestClient } from '../support/ws-client.js';

let gw: Gateway;
let listener: TestClient;

beforeAll(async () => {
  gw = await startGateway({ heartbeatInterval: 0, pingInterval: 0, allowedOrigins: ['https://admin.example'] });
  listener = (await connect(gw)).client;
  listener.send('channel/subscribe', { channel: 'news' });
  await listener.next('channel/subscribed');
});
afterAll(async () => {
  listener.kill();
  await gw.close();
});

/** A POST to /api/publish as a browser would send it (fetch from a page, or a form). */
async function post(headers: Record<string, string>, body = JSON.stringify({ channel: 'news', data: { evil: true } })): Promise<{ status: number; body: unknown }> {
  const res = await fetch(gw.url('/api/publish'), { method: 'POST', headers, body });
  return { status: res.status, body: await res.json() };
}

describe('the API without a key refuses what another site\'s page sends', () => {
  test.each([
    ['a text/plain fetch from a foreign page', { 'content-type': 'text/plain', origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' }, 403],
    ['a page on another port of the same host (same-site)', { 'content-type': 'application/json', origin: 'http://127.0.0.1:3000', 'sec-fetch-site': 'same-site' }, 403],
    ['an older browser: foreign Origin, no Sec-Fetch-Site', { 'content-type': 'application/json', origin: 'https://evil.example' }, 403],
    ['a sandboxed page (Origin: null)', { 'content-type': 'application/json', origin: 'null' }, 403],
    ['a form post without Origin (text/plain, no CORS preflight)', { 'content-type': 'text/plain' }, 415],
    ['a urlencoded form', { 'content-type': 'application/x-www-form-urlencoded' }, 415],
    ['no content type at all', {}, 415],
  ])('%s → %i, nothing published', async (_what, headers, status) => {
    const res = await post(headers as Record<string, string>);
    expect(res.status).toBe(status);
    expect(res.body).toHaveProperty('error');
    const ok = await post({ 'content-type': 'application/json' }, JSON.stringify({ channel: 'news', data: { marker: status } }));
    expect(ok.status).toBe(200);
    // The marker is the first message this test delivers: the refused publish never reached the channel.
    const m = await listener.next('channel/message');
    expect((m.payload as { data: unknown }).data).toEqual({ marker: status });
  });

  test.each([
    ['a server or script (no Origin, no Sec-Fetch-Site)', { 'content-type': 'application/json' }],
    ['a same-origin page', { 'content-type': 'application/json; charset=utf-8', origin: 'http://x', 'sec-fetch-site': 'same-origin' }],
    ['an Origin on --allowed-origins', { 'content-type': 'application/json', origin: 'https://admin.example', 'sec-fetch-site': 'cross-site' }],
  ])('%s may publish', async (_what, headers) => {
    const res = await post(headers as Record<string, string>);
    expect(res.status).toBe(200);
    await listener.next('channel/message');
  });

  test('a cross-site GET of the session list is refused too (it would leak ids)', async () => {
    const res = await fetch(gw.url('/api/sessions'), { headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' } });
    expect(res.status).toBe(403);
  });
});
