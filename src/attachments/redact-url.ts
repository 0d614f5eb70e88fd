/**
 * A URL as it may appear in logs and failure records: no user name or password, and no query
 * values (presigned URLs carry signatures and tokens there). Keys stay so a person can still
 * tell URLs apart.
 */

const MAX_CHARS = 2048;

export function redactUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    // Not parseable: still drop anything that looks like `//user:pass@`.
    return raw
      .trim()
      .replace(/\/\/[^/?#]*@/, '//')
      .slice(0, MAX_CHARS);
  }
  url.username = '';
  url.password = '';
  url.hash = '';
  const keys = [...url.searchParams.keys()];
  url.search = '';
  const query = keys.length > 0 ? `?${keys.map((k) => `${encodeURIComponent(k)}=[redacted]`).join('&')}` : '';
  return `${url.href}${query}`.slice(0, MAX_CHARS);
}
