/**
 * Test harness: Debian's nginx as a non-daemon child on a free loopback port, with a generated config that proxies
 * `/api/ws` and `/ws` (Upgrade/Connection headers) and leaves `proxy_read_timeout` at nginx's default (60 s).
 * The implementation lives in load/nginx.ts because the load driver (built into dist/) uses it too.
 *
 * ```ts
 * const nginx = await startNginx({ upstreamPort: gw.port });   // optional: tls, workerProcesses, workerConnections, workerRlimitNofile
 * new WebSocket(`${nginx.url}/api/ws`); ... await nginx.stop();
 * ```
 */
export { startNginx, nginxConfig, nginxSizing, NGINX_BIN } from '../../load/nginx.js';
export type { NginxHandle, NginxOptions } from '../../load/nginx.js';
