/**
 * A failure a client can repeat at its message rate must not flood the log: an application handler that throws is
 * answered system/error `internal` every time, but warned about once per 10 s (the rest at debug, counted into the
 * next warning). Real sockets; the gateway's clock is a ManualClock.
 */
import { pino } from 'pino';
import type { Gateway } from '../../src/index.js';
import { until } from '../support/http-api.js';
import { ClientPool, startGateway } from '../support/gateway.js';
import { ManualClock } from '../support/manual-clock.js';

let gw: Gateway | undefined;
const pool = new ClientPool();
afterAll(async () => {
  pool.killAll();
  await gw?.close();
});

test('50 failing messages: 50 system/error internal, one warning; 10 s later the next warning says how many were held back', async () => {
  const logs: { level: number; msg: string; suppressed?: number; event?: string }[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line) as (typeof logs)[number]) });
  const clock = new ManualClock(Date.now());
  gw = await startGateway({ clock, logger });
  gw.handle('app/fail', () => {
    throw new Error('database down');
  });
  const { client } = await pool.connect(gw, { room: 'w' });
  for (let i = 0; i < 50; i++) client.send('app/fail', { i });
  await until(() => client.all('system/error').length === 50, 5000, '50 errors');
  expect(client.all('system/error').map((f) => (f.payload as { code: string }).code)).toEqual(Array(50).fill('internal'));
  const failed = (): typeof logs => logs.filter((l) => l.msg === 'handler failed');
  expect(failed().filter((l) => l.level === 40)).toHaveLength(1);
  expect(failed().filter((l) => l.level === 20)).toHaveLength(49);

  clock.advance(9_999);
  client.send('app/fail', { i: 50 });
  await until(() => client.all('system/error').length === 51, 5000, 'error 51');
  expect(failed().filter((l) => l.level === 40)).toHaveLength(1);
  clock.advance(1);
  client.send('app/fail', { i: 51 });
  await until(() => client.all('system/error').length === 52, 5000, 'error 52');
  const warnings = failed().filter((l) => l.level === 40);
  expect(warnings).toHaveLength(2);
  expect(warnings[1]!.suppressed).toBe(50);
  expect(warnings[1]!.event).toBe('app/fail');
});
