/**
 * The request target of an HTTP request or upgrade, parsed totally: origin-form (`/path?q`) and
 * absolute-form (`http://host:port/path?q`, RFC 9112 §3.2.2, whose authority must be valid) give
 * their path and query; anything
 * else (`*`, authority-form, a target that the URL parser refuses) gives `null`, for a 400.
 * `new URL(req.url, base)` throws on an absolute-form target with a bad port or host, and an
 * exception there used to reach the process.
 */
export function parseRequestTarget(raw: string | undefined): URL | null {
  const target = raw === undefined || raw === '' ? '/' : raw;
  // Absolute form: the authority is not ours to route on (the Host header is); keep path + query.
  const absolute = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*(.*)$/s.exec(target);
  const pathAndQuery = absolute ? absolute[1] || '/' : target;
  if (!pathAndQuery.startsWith('/')) return null;
  try {
    // An absolute-form target must itself be a valid URL (a bad host or port is a 400).
    if (absolute) new URL(target);
    // Concatenate instead of resolving against a base: `//host/x` must stay a path, not an authority.
    return new URL(`http://localhost${pathAndQuery}`);
  } catch {
    return null;
  }
}
