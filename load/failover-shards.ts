import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FromShard, ShardResult, ToShard } from './failover-shard.js';
import { stopChild } from './processes.js';

/** Clients per shard process: a few thousand sockets each, from a source address of its own. */
export const CLIENTS_PER_SHARD = 2500;

/** The storm's client processes (load/failover-shard.ts), driven together. */
export class ShardSet {
  private readonly children: ChildProcess[] = [];
  private readonly settled = new Map<number, number>();
  /** Shards whose results arrived: their exit afterwards is the expected end. */
  private readonly reported = new Set<number>();
  private readonly waiters = new Map<string, { need: number; got: FromShard[]; resolve: (m: FromShard[]) => void; reject: (e: Error) => void }>();

  constructor(readonly clients: number) {
    const shards = Math.max(1, Math.ceil(clients / CLIENTS_PER_SHARD));
    for (let k = 0; k < shards; k++) {
      const child = fork(fileURLToPath(new URL('./failover-shard.js', import.meta.url)), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      child.on('message', (m: FromShard) => this.onMessage(k, m));
      child.once('exit', (code) => {
        if (!this.reported.has(k)) this.failAll(new Error(`client process ${k} exited (${code})`));
      });
      this.children.push(child);
    }
  }

  /** Connect every client to `port`, `rate` per second in all; resolves with every session id by client index. */
  async connect(port: number, rate: number): Promise<string[]> {
    const n = this.children.length;
    const wait = this.expect('connected');
    this.children.forEach((c, k) => {
      const first = Math.floor((k * this.clients) / n);
      const count = Math.floor(((k + 1) * this.clients) / n) - first;
      this.send(c, { type: 'start', port, first, count, addresses: [`127.0.0.${2 + k}`], rate: rate / n });
    });
    const ids: string[] = [];
    for (const m of await wait) if (m.type === 'connected') for (const s of m.sessions) ids[s.index] = s.id;
    return ids;
  }

  /** Have every client resume on `port` when its socket closes; resolves once every shard listens for the closes. */
  async arm(port: number): Promise<void> {
    const wait = this.expect('armed');
    this.children.forEach((c) => this.send(c, { type: 'arm', port }));
    await wait;
  }

  /** Clients whose resume ended (resumed or failed) so far. */
  settledCount(): number {
    return [...this.settled.values()].reduce((a, b) => a + b, 0);
  }

  /** Every client's outcome (the shards exit afterwards). */
  async results(): Promise<ShardResult[]> {
    const wait = this.expect('results');
    this.children.forEach((c) => this.send(c, { type: 'finish' }));
    return (await wait).flatMap((m) => (m.type === 'results' ? m.results : []));
  }

  /** Stop every shard (idempotent). */
  async stop(): Promise<void> {
    await Promise.all(this.children.map((c) => stopChild(c, 2000)));
  }

  private send(c: ChildProcess, m: ToShard): void {
    if (c.connected) c.send(m);
  }

  private expect(type: FromShard['type']): Promise<FromShard[]> {
    return new Promise((resolve, reject) => this.waiters.set(type, { need: this.children.length, got: [], resolve, reject }));
  }

  private onMessage(k: number, m: FromShard): void {
    if (m.type === 'progress') return void this.settled.set(k, m.settled);
    if (m.type === 'error') return this.failAll(new Error(`client process ${k}: ${m.message}`));
    if (m.type === 'results') this.reported.add(k);
    const w = this.waiters.get(m.type);
    if (!w) return;
    w.got.push(m);
    if (w.got.length === w.need) {
      this.waiters.delete(m.type);
      w.resolve(w.got);
    }
  }

  private failAll(err: Error): void {
    for (const w of this.waiters.values()) w.reject(err);
    this.waiters.clear();
  }
}
