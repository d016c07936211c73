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
