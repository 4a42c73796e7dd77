/**
 * shared/static_file.ts on its own: the `Cache-Control` a server picks (the
 * operator console's `no-store`) is on every answer, 304 included, beside
 * the extra headers; without one, the short public default.
 */
import assert from "node:assert/strict";
import { Hono } from "hono";
import { staticFile } from "../../shared/static_file.ts";

async function served(
  options: Parameters<typeof staticFile>[2],
): Promise<{ app: Hono; [Symbol.asyncDispose](): Promise<void> }> {
  const dir = await Deno.makeTempDir({ prefix: "wsgw-static-" });
  const url = new URL(`file://${dir}/page.html`);
  await Deno.writeTextFile(url, "<p>hello</p>".repeat(50));
  const app = new Hono();
  app.get("/page", staticFile(url, "text/html; charset=utf-8", options));
  return {
    app,
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

Deno.test("static file - cacheControl is the Cache-Control of 200, gzip and 304 answers, with the extra headers", async () => {
  await using s = await served({
    cacheControl: "no-store",
    headers: () => ({ "x-frame-options": "DENY" }),
  });
  const plain = await s.app.request("/page");
  assert.equal(await plain.text(), "<p>hello</p>".repeat(50));
  assert.equal(plain.headers.get("cache-control"), "no-store");
  assert.equal(plain.headers.get("x-frame-options"), "DENY");
  const etag = plain.headers.get("etag")!;
  assert.match(etag, /^"[0-9a-f]{24}"$/);

  const gzip = await s.app.request("/page", {
    headers: { "accept-encoding": "gzip" },
  });
  await gzip.body?.cancel();
  assert.equal(gzip.headers.get("content-encoding"), "gzip");
  assert.equal(gzip.headers.get("cache-control"), "no-store");

  const again = await s.app.request("/page", {
    headers: { "if-none-match": etag },
  });
  assert.equal(again.status, 304);
  assert.equal(again.headers.get("cache-control"), "no-store");
  assert.equal(again.headers.get("x-frame-options"), "DENY");
});

Deno.test("static file - without cacheControl: public, a few minutes, revalidated", async () => {
  await using s = await served({});
  const response = await s.app.request("/page");
  await response.body?.cancel();
  assert.equal(
    response.headers.get("cache-control"),
    "public, max-age=300, must-revalidate",
  );
});
