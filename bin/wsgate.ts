#!/usr/bin/env node
/**
 * The `wsgate` command: the composition root. `src/` never imports the legacy adapter, so the
 * gateway and the adapter are put together here.
 */
import cluster from 'node:cluster';
import { parseCli } from '../src/cli.js';
import { runPrimary, workerCount } from '../src/cluster/primary.js';
import { clusterMetricsSource } from '../src/cluster/worker-metrics.js';
import { createLogger } from '../src/logger.js';
import { ConfigError } from '../src/config.js';
import { ClosedWhileStarting, createGateway, type Gateway } from '../src/gateway.js';
import { installSignalHandlers } from './signals.js';
import { mountClientBundle } from '../src/demo/client-bundle.js';
import { mountDemo } from '../src/demo/mount-demo.js';
import { mountLegacyAdapter } from '../legacy-adapter/index.js';
import { runLegacyCli } from '../legacy-adapter/cli.js';

async function main(argv: string[]): Promise<number | undefined> {
  if (argv[0] === 'legacy') {
    await runLegacyCli(argv.slice(1));
    return undefined;
  }
  const req = parseCli(argv);
  if (req.kind === 'help' || req.kind === 'version') {
    process.stdout.write(`${req.text}\n`);
    return 0;
  }
  if (req.options.workers && cluster.isPrimary) {
    // `--workers N`: this process only supervises; each worker runs this same command as a whole gateway on the same port.
    return runPrimary(workerCount(req.options.workers)!, createLogger(req.options.logLevel, { service: 'wsgate', role: 'primary' }));
  }
  const gateway: Gateway = createGateway({ ...req.options, ...(cluster.isWorker ? { metricsText: clusterMetricsSource } : {}) });
  // Handlers before listening: a SIGTERM that arrives right after "wsgate listening" must drain, not kill.
  // SIGTERM/SIGINT: graceful drain (close 1012 in batches) then exit 0; SIGHUP: reload TLS files.
  installSignalHandlers(gateway);
  if (cluster.isWorker) {
    // A terminal's Ctrl-C reaches every worker and the primary, which sends each worker SIGTERM: one drain, not two.
    process.removeAllListeners('SIGINT');
    process.on('SIGINT', () => undefined);
  }
  process.on('unhandledRejection', (err) => gateway.logger.error({ err }, 'unhandled rejection'));
  // A bug that escaped every per-connection guard: state may be inconsistent, so log it as JSON and let the
  // supervisor restart us (clients reconnect and resume against a shared broker, or start fresh).
  process.on('uncaughtException', (err) => {
    gateway.logger.fatal({ err }, 'uncaught exception; exiting');
    process.exit(1);
  });
  // The browser SDK at /wsgate-client.js, so the snippet in docs/client.md works against the command as is.
  mountClientBundle(gateway);
  if (req.options.legacy) mountLegacyAdapter(gateway);
  if (req.options.demo) mountDemo(gateway);
  await gateway.listen();
  if (req.options.demo) gateway.logger.info({ url: gateway.url('/demo/') }, 'demo page');
  return undefined;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined) process.exit(code);
  },
  (err: unknown) => {
    // SIGTERM while starting: the drain that signal began exits (0) once it is done.
    if (err instanceof ClosedWhileStarting) return;
    if (err instanceof ConfigError) {
      process.stderr.write(`wsgate: ${err.message}\n`);
      process.exit(2);
    }
    const e = err as NodeJS.ErrnoException;
    process.stderr.write(`wsgate: ${e.code === 'EADDRINUSE' ? `port in use (${e.message})` : (e.stack ?? String(e))}\n`);
    process.exit(1);
  },
);
