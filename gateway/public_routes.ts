/**
 * Public, non-WebSocket routes of a gateway: the browser client module, and
 * the demo page in the embedded process.
 *
 * @module
 */
import { Hono } from "hono";

const CLIENT_JS = new URL("../client/dist/client.js", import.meta.url);
const CLIENT_DTS = new URL("../client/dist/client.d.ts", import.meta.url);
const INDEX_HTML = new URL("./static/index.html", import.meta.url);

/**
 * Creates the Hono routes serving `/client.js` and `/client.d.ts`, and with
 * `demoPage` the demo page at `/` (the embedded process, which mounts the
 * demo service the page talks to).
 */
export function createPublicRoutes(options: { demoPage?: boolean } = {}): Hono {
  const app = new Hono();
  const file = (url: URL, type: string) => {
    let cached: Promise<string> | undefined;
    return async () => {
      cached ??= Deno.readTextFile(url);
      return new Response(await cached, {
        headers: { "content-type": type, "cache-control": "no-cache" },
      });
    };
  };
  if (options.demoPage) {
    app.get("/", file(INDEX_HTML, "text/html; charset=utf-8"));
  }
  app.get("/client.js", file(CLIENT_JS, "text/javascript; charset=utf-8"));
  app.get(
    "/client.d.ts",
    file(CLIENT_DTS, "application/typescript; charset=utf-8"),
  );
  return app;
}
