/**
 * Test harness: Debian's redis-server as a child on a free loopback port, in a temp dir, with no
 * persistence (no RDB, no AOF), so a restart is an empty Redis — the worst case a gateway must survive.
 *
 * ```ts
 * const redis = await startRedis();            // optional: { password, user, tls }
 * new Redis(redis.url); ... await redis.restart(); ... await redis.stop();
 * ```
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../load/free-port.js';
import { REDIS_SERVER_BIN, redisServerArgs, waitRedisReady } from '../../load/redis-server.js';

/** Where scripts/test.sh installs it from Debian (the load driver's: load/redis-server.ts). */
export const REDIS_BIN = REDIS_SERVER_BIN;

/** A running redis-server. */
export interface RedisHandle {
  port: number;
  /** redis://[:password@]127.0.0.1:PORT, or rediss:// with `tls` */
  url: string;
  /** With `tls`: the PEM file of the CA that signed the server's certificate. */
  caFile?: string;
  /** Kill it (SIGKILL: an outage, not a clean shutdown); `start()` brings it back. Idempotent. */
  kill(): Promise<void>;
  /** Start it again on the same port, empty. */
  start(): Promise<void>;
  /** kill() then start(), with `downMs` of outage in between. */
  restart(downMs?: number): Promise<void>;
  /** Kill it and remove its directory (test cleanup). */
  stop(): Promise<void>;
  /** Freeze it (SIGSTOP): connections stay open and nothing is answered, a stalled Redis; `thaw()` lets it go on. */
  freeze(): void;
  thaw(): void;
}

/** Options of startRedis. */
export interface RedisOptions {
  /** requirepass; the url then carries it. */
  password?: string;
  /** An ACL user with every right (the url carries the default user's password, if any). */
  user?: { name: string; password: string };
  /** TLS only (no plain port), with a certificate for 127.0.0.1 signed by a CA made for the test (`caFile`). */
  tls?: boolean;
}

/** Start a redis-server on a free 127.0.0.1 port; resolves once it accepts connections. */
export async function startRedis(opts: RedisOptions = {}): Promise<RedisHandle> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'wsgate-redis-'));
  let child: ChildProcess | undefined;
  const args = redisServerArgs(port, dir);
  if (opts.password) args.push('--requirepass', opts.password);
  if (opts.user) args.push('--user', opts.user.name, 'on', `>${opts.user.password}`, '~*', '&*', '+@all');
  const caFile = opts.tls ? makeCerts(dir) : undefined;
  if (opts.tls) {
    args[0] = '--tls-port';
    args.push('--port', '0', '--tls-cert-file', join(dir, 'redis.crt'), '--tls-key-file', join(dir, 'redis.key'), '--tls-ca-cert-file', caFile!, '--tls-auth-clients', 'no');
  }

  const start = async (): Promise<void> => {
    child = spawn(REDIS_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    await waitRedisReady(child, 10_000);
  };
  const kill = async (): Promise<void> => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGKILL');
    });
  };
  await start();
  const auth = opts.password ? `:${encodeURIComponent(opts.password)}@` : '';
  return {
    port,
    url: `${opts.tls ? 'rediss' : 'redis'}://${auth}127.0.0.1:${port}`,
    caFile,
    start,
    kill,
    stop: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
    freeze: () => void child?.kill('SIGSTOP'),
    thaw: () => void child?.kill('SIGCONT'),
    restart: async (downMs = 0) => {
      await kill();
      if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
      await start();
    },
  };
}

/** A CA and a certificate for 127.0.0.1 it signs, made with openssl in `dir`; returns the CA's file. */
function makeCerts(dir: string): string {
  const ssl = (...a: string[]): void => void execFileSync('openssl', a, { cwd: dir, stdio: 'ignore' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  ssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=wsgate test CA');
  ssl('req', ...ec, '-keyout', 'redis.key', '-out', 'redis.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  ssl('x509', '-req', '-in', 'redis.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'redis.crt', '-days', '2', '-extfile', 'san.ext');
  return join(dir, 'ca.crt');
}
