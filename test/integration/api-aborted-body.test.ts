/**
 * A client that goes away in the middle of its request body (fewer bytes than Content-Length,
 * then FIN) is the client's doing: the gateway logs no error, only a debug line with 400.
 * Found by the fuzz scenario of the load driver (docs/load.md).
 */
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Gateway } from '../../src/index.js';
import { startGateway } from '../support/gateway.js';

let gw: Gateway;
const lines: Record<string, unknown>[] = [];

beforeAll(async () => {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  gw = await startGateway({ heartbeatInterval: 0, pingInterval: 0, logger: pino({ level: 'debug' }, sink) });
});
afterAll(() => gw.close());

function cutShort(port: number): Promise<void> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    sock.on('close', () => resolve());
    sock.on('error', () => resolve());
    sock.end('POST /api/publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"channel":"c"');
  });
}

test('a body cut short by the client: no error logged, refused as 400 at debug level', async () => {
  for (let i = 0; i < 3; i++) await cutShort(gw.port);
  await new Promise((r) => setTimeout(r, 200));
  expect(lines.filter((l) => (l.level as number) >= 50)).toEqual([]);
  const refused = lines.filter((l) => l.msg === 'api request refused' && l.status === 400 && l.error === 'request body not received in full');
  expect(refused).toHaveLength(3);
});
