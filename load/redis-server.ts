/**
 * A redis-server of the load driver's own: Debian's binary on a free loopback port, in a temp dir, with no
 * persistence (no RDB, no AOF — a measurement must not pay for disk writes), stopped and removed with the run.
 * Also reads the figures the scale-out reports print (INFO memory/stats, DBSIZE).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './free-port.js';

/** Debian's redis-server (`apt-get install redis-server`); override with WSGATE_REDIS_SERVER. */
export const REDIS_SERVER_BIN = process.env.WSGATE_REDIS_SERVER ?? (existsSync('/usr/bin/redis-server') ? '/usr/bin/redis-server' : 'redis-server');

/** What the report says about Redis at one moment. */
export interface RedisSnapshot {
  /** INFO memory used_memory, bytes. */
  usedMemory: number;
  /** INFO memory used_memory_rss, bytes. */
  usedMemoryRss: number;
  /** INFO stats total_commands_processed (this INFO call included). */
  commands: number;
  /** DBSIZE. */
  keys: number;
  /** Redis's own CPU (INFO cpu used_cpu_sys + used_cpu_user), seconds. */
  cpuSeconds: number;
  /** INFO commandstats: calls per command (scripts' inner calls included). */
  calls: Record<string, number>;
  at: number;
}

/** A redis-server the driver started, or one it was given (`stop()` then only disconnects). */
export interface RedisServer {
  url: string;
  /** The server's pid when we started it (0 for a given URL). */
  pid: number;
  snapshot(): Promise<RedisSnapshot>;
  stop(): Promise<void>;
}

function field(info: string, name: string): number {
  const m = new RegExp(`^${name}:([0-9.]+)`, 'm').exec(info);
  return m ? Number(m[1]) : 0;
}

/** Snapshot INFO/DBSIZE through `client` (one round trip each; cheap enough to sample once a second). */
export async function redisSnapshot(client: Redis): Promise<RedisSnapshot> {
  const [info, keys] = await Promise.all([client.info('everything'), client.dbsize()]);
  const calls: Record<string, number> = {};
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls[m[1]!] = Number(m[2]);
  return {
    usedMemory: field(info, 'used_memory'),
    usedMemoryRss: field(info, 'used_memory_rss'),
    commands: field(info, 'total_commands_processed'),
    keys,
    cpuSeconds: field(info, 'used_cpu_sys') + field(info, 'used_cpu_user'),
    calls,
    at: Date.now(),
  };
}

/** redis-server's arguments for a throw-away server on 127.0.0.1:`port` with its files in `dir` (no RDB, no AOF). */
export function redisServerArgs(port: number, dir: string): string[] {
  return ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no'];
}

/** Resolves once `child` (a redis-server) logs that it accepts connections; rejects if it exits or errs first. */
export function waitRedisReady(child: ChildProcess, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    const fail = (why: string): void => {
      clearTimeout(timer);
      reject(new Error(`redis-server: ${why}\n${out}`));
    };
    const timer = setTimeout(() => fail(`not ready within ${timeoutMs} ms`), timeoutMs);
    const onData = (d: Buffer): void => {
      out += d.toString();
      if (!out.includes('Ready to accept connections')) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.stdout!.resume();
      child.off('exit', onExit);
      resolve();
    };
    const onExit = (code: number | null): void => fail(`exited (${code}) during start`);
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', (err) => fail(`cannot run ${REDIS_SERVER_BIN} (apt-get install redis-server): ${err.message}`));
    child.once('exit', onExit);
  });
}

async function startOnce(): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'wsgate-load-redis-'));
  // maxclients: every gateway process holds a few connections; the default 10,000 is plenty, but say so.
  const args = [...redisServerArgs(port, dir), '--maxclients', '1000'];
  const child = spawn(REDIS_SERVER_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const kill = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      });
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitRedisReady(child, 10_000);
  } catch (err) {
    await kill();
    throw err;
  }
  const url = `redis://127.0.0.1:${port}`;
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await client.connect();
  return {
    url,
    pid: child.pid ?? 0,
    snapshot: () => redisSnapshot(client),
    stop: async () => {
      client.disconnect();
      await kill();
    },
  };
}

/** Start a private redis-server on a free 127.0.0.1 port (retried on a port race). */
export async function startRedisServer(): Promise<RedisServer> {
  let last: Error | undefined;
  for (let i = 0; i < 3; i++) {
    try {
      return await startOnce();
    } catch (err) {
      last = err as Error;
      if (!/Address already in use|exited/.test(last.message)) break;
    }
  }
  throw last ?? new Error('redis-server failed to start');
}

/** Use an existing Redis at `url` (its data is not ours: stop() only disconnects). */
export async function useRedis(url: string): Promise<RedisServer> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await client.connect();
  return { url, pid: 0, snapshot: () => redisSnapshot(client), stop: async () => client.disconnect() };
}
