/**
 * The SharedWorker script of the shared mode (built to `wsgate-shared-worker.js` next to the
 * browser bundle): one WebSocket for every tab of the origin that connects. See docs/client.md.
 */
import { WorkerHub } from './worker-hub.js';
import type { PortLike } from './tab-protocol.js';

interface SharedWorkerScope {
  onconnect: ((ev: { ports: readonly PortLike[] }) => void) | null;
}

const hub = new WorkerHub();
(globalThis as unknown as SharedWorkerScope).onconnect = (ev) => {
  const port = ev.ports[0];
  if (port) hub.attach(port);
};
