import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** Check a `--redis` URL; returns an error message or undefined. */
export function checkRedisUrl(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `not a URL: ${url}`;
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') return `must start with redis:// or rediss://, got ${parsed.protocol}//`;
  if (!parsed.hostname) return 'needs a host';
  return undefined;
}

/** Check a `--redis-tls-ca` file: readable, holding at least one PEM certificate; returns an error message or undefined. */
export function checkCaFile(path: string): string | undefined {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (err) {
    return `cannot read ${path}: ${(err as Error).message}`;
  }
  try {
    new X509Certificate(pem); // the first certificate of the file; Node reads the others when it connects
  } catch {
    return `${path} holds no PEM certificate`;
  }
  return undefined;
}
