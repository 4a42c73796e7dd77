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
import { staticFile } from "../shared/static_file.ts";

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

const JS = "text/javascript; charset=utf-8";

/** The console's files under `/console/`, by name, with their media type. */
export const CONSOLE_FILES: Readonly<Record<string, string>> = {
  "index.html": "text/html; charset=utf-8",
  "console.css": "text/css; charset=utf-8",
  "console.js": JS,
  "api.js": JS,
  "dom.js": JS,
  "cluster.js": JS,
  "user.js": JS,
};

/** What every file of the console is served with, besides its type. */
const HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": CONSOLE_CSP,
  "referrer-policy": "no-referrer",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
};

/** The console's routes, to mount at `/`. */
export function consoleRoutes(): Hono {
  const app = new Hono();
  for (const [file, type] of Object.entries(CONSOLE_FILES)) {
    const serve = staticFile(
      new URL(`./console/${file}`, import.meta.url),
      type,
      {
        // An upgrade's console is used at once: no copy is kept.
        cacheControl: "no-store",
        headers: () => HEADERS,
      },
    );
    if (file === "index.html") {
      app.get("/console", serve);
      app.get("/console/", serve);
    } else {
      app.get(`/console/${file}`, serve);
    }
  }
  return app;
}
