import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { Logger } from 'pino';
import { ConfigError, type GatewayOptions } from '../config.js';


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

/** The gateway's own server: HTTPS when `tls_cert` is set (a file it cannot read is a ConfigError naming the flag), HTTP otherwise. */
export function createServer(o: Pick<GatewayOptions, 'tlsCert' | 'tlsKey'>): http.Server | https.Server {
  if (!o.tlsCert) return http.createServer();
  const read = (file: string, flag: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new ConfigError(`${flag}: cannot read ${file}: ${(err as Error).message}`);
    }
  };
  return https.createServer({ cert: read(o.tlsCert, '--tls-cert'), key: read(o.tlsKey, '--tls-key') });
}
