/**
 * The demo page at `/`, and for the standalone demo (`deno task demo`) the
 * client module the page imports from its own origin; in the embedded
 * process the gateway serves that module.
 *
 * @module
 */
import { Hono } from "hono";
import { staticFile } from "../shared/static_file.ts";

const INDEX_HTML = new URL("./static/index.html", import.meta.url);
// The same built file a gateway serves at /client.js (client/dist).
const CLIENT_JS = new URL("../client/dist/client.min.js", import.meta.url);

/** Options of {@link createPageRoutes}. */
export type PageRoutesOptions = {
  /** Serve `/client.js` too (no gateway serves it on this origin). @default false */
  clientModule?: boolean;
};

/** Creates the routes of the demo page. */
export function createPageRoutes(options: PageRoutesOptions = {}): Hono {
  const app = new Hono();
  app.get("/", staticFile(INDEX_HTML, "text/html; charset=utf-8"));
  if (options.clientModule) {
    app.get(
      "/client.js",
      staticFile(CLIENT_JS, "text/javascript; charset=utf-8"),
    );
  }
  return app;
}
