/**
 * The clients of the failover storm (load/redis-failover.ts): each holds one v3 session, counts the `app/n` messages
 * the backend sends it across both of its connections, and — like the SDK — reconnects with `resume` as soon as its
 * socket closes, to whichever gateway the run points it at (a load balancer's job in production).
 */
import { Agent, request } from 'node:http';
import WebSocket from 'ws';

/** Handshake + hello → system/init must finish within this. */
const CONNECT_TIMEOUT_MS = 30_000;
/** Attempts per (re)connect: a full accept queue or a 503 for too many pending hellos is retried, like the SDK does. */
const ATTEMPTS = 5;

/** One client of the storm. */
export class FailoverClient {
  id = '';
  token = '';
  lastSeq = 0;
  readonly got: number[] = [];
  /** system/init of the resume: `resumed` true, or how it failed. */
  outcome = '';
  /** When (Date.now()) this client's old socket closed, and when its resume's system/init arrived; 0: not yet. */
  closedAt = 0;
  resumedAt = 0;
  attempts = 0;
  private ws?: WebSocket;

  constructor(
    readonly index: number,
    private readonly localAddress: string | undefined,
  ) {}

  /** Open a new session on `port` (room `r<index>`). */
  async start(port: number): Promise<void> {
    const init = await this.withRetries(() => this.open(port, { room: `r${this.index}` }));
    this.id = init.session_id as string;
    this.token = init.resume_token as string;
  }

  /** When the current socket closes, resume on `port()`; resolves with the outcome. */
  resumeOnClose(port: () => number): Promise<void> {
    return new Promise((resolve) => {
      this.ws!.once('close', () => {
        this.closedAt = Date.now();
        const hello = () => ({ resume: { session_id: this.id, resume_token: this.token, last_seq: this.lastSeq } });
        this.withRetries(() => this.open(port(), hello())).then(
          (init) => {
            this.outcome = init.resumed === true ? 'resumed' : `new_session:${String(init.resume_error ?? 'unknown')}`;
            this.resumedAt = Date.now();
            resolve();
          },
          (err: Error) => {
            this.outcome = `failed:${err.message.slice(0, 60)}`;
            resolve();
          },
        );
      });
    });
  }

  /** `client/heartbeat` (docs/protocol.md §3.2): a silent client is closed after 2 × heartbeat_interval. */
  heartbeat(): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send('{"event":"client/heartbeat"}');
  }

  /** Close without waiting (end of run). */
  close(): void {
    this.ws?.terminate();
  }

  private async withRetries(open: () => Promise<Record<string, unknown>>): Promise<Record<string, unknown>> {
    for (let i = 1; ; i++) {
      this.attempts++;
      try {
        return await open();
      } catch (err) {
        if (i >= ATTEMPTS) throw err;
        await new Promise((r) => setTimeout(r, 500 + Math.random() * 1500));
      }
    }
  }

  private open(port: number, hello: Record<string, unknown>): Promise<Record<string, unknown>> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/ws`, { localAddress: this.localAddress, perMessageDeflate: false });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error('timeout')), CONNECT_TIMEOUT_MS);
      const fail = (err: Error): void => {
        clearTimeout(timer);
        ws.terminate();
        reject(err);
      };
      ws.once('error', fail);
      ws.once('close', (code) => fail(new Error(`closed ${code} before system/init`)));
      ws.on('message', (data) => {
        const f = JSON.parse(data.toString()) as { event: string; seq?: number; payload: Record<string, unknown> };
        if (f.seq !== undefined) this.lastSeq = f.seq;
        if (f.event === 'app/n') this.got.push(f.payload.n as number);
        else if (f.event === 'system/init') {
          clearTimeout(timer);
          ws.removeAllListeners('close');
          ws.removeAllListeners('error');
          ws.on('error', () => undefined); // the killed process's sockets reset
          this.ws = ws;
          resolve(f.payload);
        }
      });
      ws.once('open', () => ws.send(JSON.stringify({ event: 'client/hello', payload: hello })));
    });
  }
}

/** A backend calling `POST /api/sessions/ID/send` over a bounded pool of keep-alive connections. */
export class Backend {
  private readonly agent: Agent;
  failures: Record<string, number> = {};
  /** `id:n` of the messages the gateway did not accept (not 202): not counted as lost. */
  readonly rejected = new Set<string>();

  constructor(
    private readonly port: number,
    connections = 64,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets: connections });
  }

  /** Send `app/n {n}` to every session, at most `connections` requests in flight; failures are counted. */
  async sendAll(ids: string[], n: number): Promise<void> {
    await Promise.all(ids.map((id) => this.send(id, n)));
  }

  private send(id: string, n: number): Promise<void> {
    const body = JSON.stringify({ event: 'app/n', payload: { n } });
    return new Promise((resolve) => {
      const fail = (why: string): void => {
        this.failures[why] = (this.failures[why] ?? 0) + 1;
        this.rejected.add(`${id}:${n}`);
        resolve();
      };
      const req = request(
        { host: '127.0.0.1', port: this.port, path: `/api/sessions/${id}/send`, method: 'POST', agent: this.agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
        (res) => {
          res.resume();
          res.once('end', () => (res.statusCode === 202 ? resolve() : fail(`HTTP ${res.statusCode}`)));
        },
      );
      req.setTimeout(30_000, () => req.destroy(new Error('timeout')));
      req.once('error', (err) => fail(err.message.slice(0, 40)));
      req.end(body);
    });
  }

  stop(): void {
    this.agent.destroy();
  }
}
