/**
 * A file served over HTTP as a browser caches it: read and gzip-encoded once,
 * with an ETag (304 on revalidation) and a short `Cache-Control`. The
 * gateway serves the client module this way, the demo its page, the router
 * the operator console.
 *
 * @module
 */
import type { Context } from "hono";

/**
 * Browsers and proxies may keep a file this long, then revalidate with the
 * ETag (an upgrade changes it; a stale copy lives at most this).
 */
const CACHE_CONTROL = "public, max-age=300, must-revalidate";

/** One static file, encoded once, with its ETag. */
type Asset = {
  type: string;
  identity: Uint8Array;
  gzip: Uint8Array;
  etag: string;
};

async function loadAsset(url: URL, type: string): Promise<Asset> {
  const identity = await Deno.readFile(url);
  const gzip = new Uint8Array(
    await new Response(
      new Blob([identity]).stream().pipeThrough(new CompressionStream("gzip")),
    ).arrayBuffer(),
  );
  const digest = await crypto.subtle.digest("SHA-256", identity);
  const hex = Array.from(new Uint8Array(digest).slice(0, 12))
    .map((b) => b.toString(16).padStart(2, "0")).join("");
  return { type, identity, gzip, etag: `"${hex}"` };
}

/** True when `header` (If-None-Match) names `etag` or is `*`. */
function matches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header.split(",").some((tag) => {
    const trimmed = tag.trim();
    return trimmed === "*" || trimmed.replace(/^W\//, "") === etag;
  });
}

/** Options of {@link staticFile}. */
export type StaticFileOptions = {
  /**
   * The `Cache-Control` of every answer (the operator console's is
   * `no-store`). @default "public, max-age=300, must-revalidate"
   */
  cacheControl?: string;
  /**
   * Extra headers of each answer from the request (CORS); a `vary` among
   * them is added to `Accept-Encoding`.
   */
  headers?: (c: Context) => Record<string, string>;
};

/**
 * A Hono handler serving the file at `url` as `type`, read on the first
 * request (a failed read is tried again on the next one).
 */
export function staticFile(
  url: URL,
  type: string,
  options: StaticFileOptions = {},
): (c: Context) => Promise<Response> {
  let cached: Promise<Asset> | undefined;
  return async (c: Context) => {
    cached ??= loadAsset(url, type).catch((error) => {
      cached = undefined;
      throw error;
    });
    const asset = await cached;
    const extra = options.headers?.(c) ?? {};
    const headers: Record<string, string> = {
      "content-type": asset.type,
      "cache-control": options.cacheControl ?? CACHE_CONTROL,
      etag: asset.etag,
      ...extra,
      vary: extra.vary ? `Accept-Encoding, ${extra.vary}` : "Accept-Encoding",
    };
    if (matches(c.req.header("if-none-match"), asset.etag)) {
      return new Response(null, { status: 304, headers });
    }
    const gzip = /\bgzip\b/.test(c.req.header("accept-encoding") ?? "");
    if (gzip) headers["content-encoding"] = "gzip";
    const body = gzip ? asset.gzip : asset.identity;
    return new Response(
      c.req.method === "HEAD" ? null : body as Uint8Array<ArrayBuffer>,
      { headers },
    );
  };
}
