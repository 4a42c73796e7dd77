/**
 * Public, non-WebSocket routes of a gateway: the client module (minified,
 * compressed, cacheable with an ETag, readable from any allowed origin) and
 * its types.
 *
 * @module
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { staticFile } from "../shared/static_file.ts";
import { corsHeaders } from "./cors.ts";

const CLIENT_JS = new URL("../client/dist/client.min.js", import.meta.url);
const CLIENT_DTS = new URL("../client/dist/client.d.ts", import.meta.url);

/** Options of {@link createPublicRoutes}. */
export type PublicRoutesOptions = {
  /** Origins whose pages may load the module; empty allows any (`*`). */
  allowedOrigins?: readonly string[];
};

/** Creates the Hono routes serving `/client.js` and `/client.d.ts`. */
export function createPublicRoutes(options: PublicRoutesOptions = {}): Hono {
  const app = new Hono();
  const allowed = options.allowedOrigins ?? [];
  const cors = (c: Context) =>
    corsHeaders(c.req.header("origin") ?? null, allowed);
  app.get(
    "/client.js",
    staticFile(CLIENT_JS, "text/javascript; charset=utf-8", { headers: cors }),
  );
  app.get(
    "/client.d.ts",
    staticFile(CLIENT_DTS, "application/typescript; charset=utf-8", {
      headers: cors,
    }),
  );
  return app;
}
