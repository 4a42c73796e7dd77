/**
 * The `/ws` URL of one connection attempt, and the HTTP URL that probes it.
 *
 * @module
 */

/** Where a reconnecting client left off. */
export type Resume = { since: number; epoch: string | undefined };

/**
 * Parses the `url` option: `ws:`/`wss:`, or `http:`/`https:` which become
 * `ws:`/`wss:`; relative URLs resolve against the page's location.
 *
 * @throws {TypeError} naming the option when it is not such a URL.
 */
export function parseSocketUrl(url: string | URL): URL {
  let parsed: URL;
  try {
    parsed = new URL(url, globalThis.location?.href);
  } catch (error) {
    throw new TypeError(`url must be a WebSocket URL, got "${url}"`, {
      cause: error,
    });
  }
  if (parsed.protocol === "http:") parsed.protocol = "ws:";
  if (parsed.protocol === "https:") parsed.protocol = "wss:";
  if (parsed.protocol !== "ws:" && parsed.protocol !== "wss:") {
    throw new TypeError(`url must be a ws: or wss: URL, got "${url}"`);
  }
  return parsed;
}

/**
 * `base?token=…[&since=…&epoch=…]`, each value through `encodeURIComponent`;
 * other query parameters of `base` are kept.
 */
export function connectUrl(
  base: URL,
  token: string,
  resume: Resume | undefined,
): string {
  const url = new URL(base);
  for (const name of ["token", "since", "epoch"]) url.searchParams.delete(name);
  const params = [`token=${encodeURIComponent(token)}`];
  if (resume) {
    params.push(`since=${resume.since}`);
    if (resume.epoch !== undefined) {
      params.push(`epoch=${encodeURIComponent(resume.epoch)}`);
    }
  }
  url.search = `${url.search ? `${url.search}&` : "?"}${params.join("&")}`;
  return url.href;
}

/** The same URL over HTTP(S): what a plain `fetch` of the upgrade route uses. */
export function probeUrl(socketUrl: string): string {
  const url = new URL(socketUrl);
  url.protocol = url.protocol === "wss:" ? "https:" : "http:";
  return url.href;
}
