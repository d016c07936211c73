import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { Logger } from 'pino';
import type { GatewayOptions } from '../config.js';


/**
 * Re-read `tls_cert`/`tls_key` and use them for new handshakes (SIGHUP), so a renewed certificate
 * (certbot, cert-manager) is picked up without dropping a single connection. Open connections keep
 * the certificate they were made with. A bad pair is refused and the old one stays. Returns true
 * when the new pair is in use.
 */
export function reloadTls(server: unknown, o: Pick<GatewayOptions, 'tlsCert' | 'tlsKey'>, logger: Logger): boolean {
  if (!(server instanceof https.Server) || !o.tlsCert) {
    logger.info('TLS reload asked, but TLS is not configured: nothing to do');
    return false;
  }
  try {
    server.setSecureContext({ cert: readFileSync(o.tlsCert), key: readFileSync(o.tlsKey) });
  } catch (err) {
    logger.error({ err: (err as Error).message, cert: o.tlsCert, key: o.tlsKey }, 'TLS reload failed; keeping the previous certificate');
    return false;
  }
  logger.info({ cert: o.tlsCert }, 'TLS certificate reloaded');
  return true;
}
