/**
 * Public, non-WebSocket routes of a gateway: the browser client module, the
 * demo page, and (only while the development secret is in use) a token
 * endpoint for the demo page.
 *
 * @module
 */
import { Hono } from "hono";
import { z } from "zod";
import { BadRequestError } from "../shared/errors.ts";
import { userIdProblem } from "../shared/protocol.ts";
import { signToken } from "../shared/token.ts";

const CLIENT_JS = new URL("../client/dist/client.js", import.meta.url);
const CLIENT_DTS = new URL("../client/dist/client.d.ts", import.meta.url);
const INDEX_HTML = new URL("./static/index.html", import.meta.url);

/** Options of {@link createPublicRoutes}. */
export type PublicRoutesOptions = {
  /** When set, `POST /dev/token` signs tokens with it (development only). */
  devTokenSecret?: string;
};

const devTokenSchema = z.object({
  user: z.string(),
  device: z.string().max(128).optional(),
});

/** Creates the Hono routes serving `/`, `/client.js`, `/client.d.ts`, `/dev/token`. */
export function createPublicRoutes(options: PublicRoutesOptions = {}): Hono {
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
  app.get("/", file(INDEX_HTML, "text/html; charset=utf-8"));
  app.get("/client.js", file(CLIENT_JS, "text/javascript; charset=utf-8"));
  app.get(
    "/client.d.ts",
    file(CLIENT_DTS, "application/typescript; charset=utf-8"),
  );
  const secret = options.devTokenSecret;
  if (secret !== undefined) {
    app.post("/dev/token", async (c) => {
      const parsed = devTokenSchema.safeParse(
        await c.req.json().catch(() => null),
      );
      if (!parsed.success) {
        throw new BadRequestError(
          'body must be {"user": string, "device"?: string}',
        );
      }
      const problem = userIdProblem(parsed.data.user);
      if (problem) throw new BadRequestError(`user ${problem}`);
      const token = await signToken(secret, {
        sub: parsed.data.user,
        device: parsed.data.device || undefined,
      });
      return c.json({ token });
    });
  }
  return app;
}
