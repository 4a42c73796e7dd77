/**
 * The `/ws` URL and subprotocols of one connection attempt, and the HTTP
 * URL that probes it.
 *
 * @module
 */

/** Where a reconnecting client left off. */
export type ResumePoint = { since: number; epoch: string | undefined };

/** The subprotocol every wsgw connection offers, and the gateway picks. */
export const PROTOCOL = "wsgw.v1";
/** Prefix of the subprotocol that carries the token. */
export const TOKEN_PROTOCOL_PREFIX = "wsgw.token.";

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
  if (parsed.searchParams.has("token")) {
    throw new TypeError(
      "url must not carry a token: pass it as the token option",
    );
  }
  return parsed;
}

/**
 * `base[?since=…&epoch=…]`, plus `token=…` when `token` is given (the
 * `query` transport); values go through `encodeURIComponent` and other
 * query parameters of `base` are kept.
 */
export function connectUrl(
  base: URL,
  resume: ResumePoint | undefined,
  token?: string,
): string {
  const url = new URL(base);
  for (const name of ["since", "epoch"]) url.searchParams.delete(name);
  const params: string[] = [];
  if (token !== undefined) params.push(`token=${encodeURIComponent(token)}`);
  if (resume) {
    params.push(`since=${resume.since}`);
    if (resume.epoch !== undefined) {
      params.push(`epoch=${encodeURIComponent(resume.epoch)}`);
    }
  }
  if (params.length > 0) {
    url.search = `${url.search ? `${url.search}&` : "?"}${params.join("&")}`;
  }
  return url.href;
}

/** Characters a subprotocol may hold (RFC 6455 4.1: an RFC 7230 token). */
const TCHARS = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * The subprotocols that carry `token`.
 *
 * @throws {TypeError} when the token holds characters a subprotocol cannot
 * (a JWT never does); the message does not echo the token.
 */
export function tokenProtocols(token: string): string[] {
  if (!TCHARS.test(token)) {
    throw new TypeError(
      'the token has characters a WebSocket subprotocol cannot carry (a JWT has none): use tokenTransport: "query"',
    );
  }
  return [PROTOCOL, TOKEN_PROTOCOL_PREFIX + token];
}

/** The same URL over HTTP(S): what a plain `fetch` of the upgrade route uses. */
export function probeUrl(socketUrl: string): string {
  const url = new URL(socketUrl);
  url.protocol = url.protocol === "wss:" ? "https:" : "http:";
  return url.href;
}
