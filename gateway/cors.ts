/**
 * CORS of the gateway's public answers a page of another origin reads:
 * `/client.js` (for the origins of `WSGW_ALLOWED_ORIGINS`), and the
 * preflight of the client's probe of `/ws`.
 *
 * @module
 */

/**
 * `Access-Control-Allow-Origin` for `origin`: `*` when `allowed` is empty,
 * the origin itself when listed (with `Vary: Origin`), none otherwise.
 */
export function corsHeaders(
  origin: string | null,
  allowed: readonly string[],
): Record<string, string> {
  if (allowed.length === 0) return { "access-control-allow-origin": "*" };
  if (origin !== null && allowed.includes(origin)) {
    return { "access-control-allow-origin": origin, vary: "Origin" };
  }
  return { vary: "Origin" };
}

/**
 * The answer to a CORS preflight of `/ws` (the client's probe sends its
 * token in `Authorization`, which needs one). Any origin: the probe only
 * reads why a socket was refused; the origin allowlist is applied to the
 * request itself (a forbidden origin reads 403).
 */
export function preflightResponse(): Response {
  return new Response(null, {
    status: 204,
    headers: {
      "access-control-allow-origin": "*",
      "access-control-allow-methods": "GET",
      "access-control-allow-headers": "authorization",
      "access-control-max-age": "600",
    },
  });
}
