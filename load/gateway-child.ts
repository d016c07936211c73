/**
 * The gateway under test, as its own process (forked by the driver, so its RSS and CPU can be read from
 * /proc/<pid> apart from the clients'): `createGateway` + the legacy adapter at `/ws`, on a free loopback port.
 * Options arrive as JSON in WSGATE_LOAD_OPTIONS; the port goes back over IPC.
 */
import { createGateway, type GatewayInit } from '../src/index.js';
import { mountLegacyAdapter } from '../legacy-adapter/index.js';

/** IPC message the driver waits for. */
export interface GatewayReady {
  type: 'ready';
  port: number;
  options: Record<string, unknown>;
}

async function main(): Promise<void> {
  const init = JSON.parse(process.env.WSGATE_LOAD_OPTIONS ?? '{}') as GatewayInit;
  const gateway = createGateway({ logLevel: 'warn', ...init, port: 0, host: '127.0.0.1', processMetrics: false });
  const { port } = await gateway.listen();
  const adapter = mountLegacyAdapter(gateway);
  let closing = false;
  const stop = (): void => {
    if (closing) return;
    closing = true;
    const force = setTimeout(() => process.exit(0), 5000);
    force.unref();
    void adapter
      .close()
      .catch(() => undefined)
      .then(() => gateway.close())
      .finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  // Ctrl-C reaches the whole process group; the driver decides when we stop.
  process.on('SIGINT', () => undefined);
  process.on('disconnect', stop);
  const msg: GatewayReady = { type: 'ready', port, options: { ...gateway.options } };
  process.send?.(msg);
}

main().catch((err: unknown) => {
  process.stderr.write(`gateway-child: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
