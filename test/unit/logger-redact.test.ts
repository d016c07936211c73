/** Secrets never reach a log line: tokens, passwords, keys, auth headers and the SSE stream key are redacted by the default logger. */
import { Writable } from 'node:stream';
import { createLogger } from '../../src/logger.js';

test('tokens, passwords, keys and authorization headers are written as [Redacted]', () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const log = createLogger('info', undefined, sink);
  log.info({ token: 'tok-1', hello: { token: 'tok-2', room: 'lobby' }, password: 'pw-3', options: { jwtSecret: 'js-4', apiKey: 'ak-5' } }, 'a');
  log.info({ req: { headers: { authorization: 'Bearer ak-6', cookie: 'sid=ck-7', host: 'h' } } }, 'b');
  log.info({ headers: { 'sec-websocket-protocol': 'bearer.tk-8' }, resume_token: 'rt-9' }, 'c');
  log.info({ req: { headers: { 'x-wsgate-key': 'sk-10' } } }, 'd');
  const text = lines.join('');
  for (const secret of ['tok-1', 'tok-2', 'pw-3', 'js-4', 'ak-5', 'ak-6', 'ck-7', 'tk-8', 'rt-9', 'sk-10']) expect(text).not.toContain(secret);
  expect(text).toContain('"room":"lobby"');
  expect(text).toContain('"host":"h"');
  expect(text.match(/\[Redacted\]/g)?.length).toBe(10);
});
