/**
 * Public, non-WebSocket routes of a gateway: the client module (minified,
 * compressed, cacheable with an ETag, readable from any allowed origin),
 * its types, and the demo page in the embedded process.
 *
 * @module
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { corsHeaders } from "./cors.ts";

const CLIENT_JS = new URL("../client/dist/client.min.js", import.meta.url);
const CLIENT_DTS = new URL("../client/dist/client.d.ts", import.meta.url);
const INDEX_HTML = new URL("./static/index.html", import.meta.url);

/**
 * Browsers and proxies may keep the module this long, then revalidate with
 * the ETag (a gateway upgrade changes it; a stale copy lives at most this).
 */
const CACHE_CONTROL = "public, max-age=300, must-revalidate";

/** Options of {@link createPublicRoutes}. */
export type PublicRoutesOptions = {
  /** Serve the demo page at `/` (the embedded process and the demo service). */
  demoPage?: boolean;
  /** Origins whose pages may load the module; empty allows any (`*`). */
  allowedOrigins?: readonly string[];
};

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

/**
 * Creates the Hono routes serving `/client.js` and `/client.d.ts`, and with
 * `demoPage` the demo page at `/`.
 */
export function createPublicRoutes(options: PublicRoutesOptions = {}): Hono {
  const app = new Hono();
  const allowed = options.allowedOrigins ?? [];
  const file = (url: URL, type: string, cors: boolean) => {
    let cached: Promise<Asset> | undefined;
    return async (c: Context) => {
      cached ??= loadAsset(url, type).catch((error) => {
        cached = undefined;
        throw error;
      });
      const asset = await cached;
      const headers: Record<string, string> = {
        "content-type": asset.type,
        "cache-control": CACHE_CONTROL,
        etag: asset.etag,
        vary: "Accept-Encoding",
        ...(cors ? corsHeaders(c.req.header("origin") ?? null, allowed) : {}),
      };
      // The answer differs by origin only when origins are listed.
      if (cors && allowed.length > 0) headers.vary = "Accept-Encoding, Origin";
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
  };
  if (options.demoPage) {
    app.get("/", file(INDEX_HTML, "text/html; charset=utf-8", false));
  }
  app.get(
    "/client.js",
    file(CLIENT_JS, "text/javascript; charset=utf-8", true),
  );
  app.get(
    "/client.d.ts",
    file(CLIENT_DTS, "application/typescript; charset=utf-8", true),
  );
  return app;
}
