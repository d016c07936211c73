import { createGateway, type Gateway, type GatewayInit } from '../../src/index.js';
import { TestClient } from './ws-client.js';

/** A gateway on 127.0.0.1, a free port, silent logs, no process metrics; stop it with `gw.close()`. */
export async function startGateway(init: GatewayInit = {}): Promise<Gateway> {
  const gw = createGateway({ port: 0, host: '127.0.0.1', logLevel: 'silent', legacy: false, processMetrics: false, ...init });
  await gw.listen();
  return gw;
}

/** Open a v3 client to `gw` and complete its hello. */
export async function connect(gw: Gateway, hello: Record<string, unknown> = {}, opts?: ConstructorParameters<typeof TestClient>[1]): Promise<{ client: TestClient; init: Record<string, unknown> }> {
  const client = new TestClient(gw.url('/api/ws'), opts);
  const init = await client.hello(hello);
  return { client, init };
}

/** The clients a test opened, all killed after it (so a failing test leaks no socket). */
export class ClientPool {
  private readonly open: TestClient[] = [];

  /** Connect to `gw` and complete the hello. */
  async connect(gw: Gateway, hello: Record<string, unknown> = {}, opts?: ConstructorParameters<typeof TestClient>[1]): Promise<{ client: TestClient; init: Record<string, unknown> }> {
    const c = await connect(gw, hello, opts);
    this.open.push(c.client);
    return c;
  }

  /** Kill `client` with the others after the test. */
  track(client: TestClient): TestClient {
    this.open.push(client);
    return client;
  }

  killAll(): void {
    for (const c of this.open.splice(0)) c.kill();
  }
}
