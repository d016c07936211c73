import { connect } from 'node:net';

/** Send raw bytes on a fresh TCP connection to 127.0.0.1:`port`; resolves with what came back before the server closed or `waitMs` passed. */
export function rawExchange(port: number, bytes: string, waitMs = 2000): Promise<string> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    let got = '';
    const done = (): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve(got);
    };
    const timer = setTimeout(done, waitMs);
    sock.on('data', (d) => (got += d.toString()));
    sock.on('close', done);
    sock.on('error', done);
    sock.write(bytes);
  });
}
