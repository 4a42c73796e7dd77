/**
 * The operator console (`GET /console`): a page of plain HTML, CSS and
 * JavaScript from `router/console/`, no build step, nothing fetched from
 * another origin. The page holds no secret: the operator types an admin API
 * key, which it keeps in memory and sends only to this origin, as the
 * Content-Security-Policy below enforces.
 *
 * @module
 */
import { Hono } from "hono";

/**
 * Scripts, styles and requests from this origin only; no inline script, no
 * frame around the page, no form posting elsewhere, no `<base>` to move
 * relative URLs.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

const HTML = "text/html; charset=utf-8";
const JS = "text/javascript; charset=utf-8";

/** The console's files under `/console/`, by name, with their media type. */
export const CONSOLE_FILES: Readonly<Record<string, string>> = {
  "index.html": HTML,
  "console.css": "text/css; charset=utf-8",
  "console.js": JS,
  "api.js": JS,
  "dom.js": JS,
  "cluster.js": JS,
  "user.js": JS,
};

const FILES: Record<string, { file: string; type: string }> = {
  "/console": { file: "index.html", type: HTML },
  ...Object.fromEntries(
    Object.entries(CONSOLE_FILES).map(([file, type]) => [
      file === "index.html" ? "/console/" : `/console/${file}`,
      { file, type },
    ]),
  ),
};

/** The console's routes, to mount at `/`. */
export function consoleRoutes(): Hono {
  const app = new Hono();
  const cache = new Map<string, Promise<Uint8Array>>();
  for (const [path, { file, type }] of Object.entries(FILES)) {
    app.get(path, async (c) => {
      let body = cache.get(file);
      if (!body) {
        body = Deno.readFile(new URL(`./console/${file}`, import.meta.url));
        cache.set(file, body);
        body.catch(() => cache.delete(file));
      }
      return c.body((await body) as Uint8Array<ArrayBuffer>, 200, {
        "content-type": type,
        "content-security-policy": CONSOLE_CSP,
        "cache-control": "no-store",
        "referrer-policy": "no-referrer",
        "x-content-type-options": "nosniff",
        "x-frame-options": "DENY",
        "cross-origin-opener-policy": "same-origin",
      });
    });
  }
  return app;
}
