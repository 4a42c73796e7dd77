/**
 * CORS headers of the gateway's public answers a browser page of another
 * origin reads: `/client.js`, and the refusals of `/ws` (so the client can
 * read a 401, a 429/503 and its `Retry-After`).
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
 * token in `Authorization`, which needs one).
 */
export function preflightResponse(
  origin: string | null,
  allowed: readonly string[],
): Response {
  return new Response(null, {
    status: 204,
    headers: {
      ...corsHeaders(origin, allowed),
      "access-control-allow-methods": "GET",
      "access-control-allow-headers": "authorization",
      "access-control-max-age": "600",
    },
  });
}
