/**
 * The demo page's routes: the page at `/`, and `/client.js` only where no
 * gateway serves it (the standalone demo).
 */
import assert from "node:assert/strict";
import { createPageRoutes } from "../../demo/page_routes.ts";

const INDEX_HTML = new URL("../../demo/static/index.html", import.meta.url);
const MIN_JS = new URL("../../client/dist/client.min.js", import.meta.url);

Deno.test("demo page routes - the page at /, with an ETag and a 304 on revalidation", async () => {
  const app = createPageRoutes();
  const page = await app.request("/");
  assert.equal(page.status, 200);
  assert.match(page.headers.get("content-type")!, /^text\/html/);
  assert.equal(await page.text(), await Deno.readTextFile(INDEX_HTML));
  const again = await app.request("/", {
    headers: { "if-none-match": page.headers.get("etag")! },
  });
  assert.equal(again.status, 304);
  await again.body?.cancel();
  const module = await app.request("/client.js");
  await module.body?.cancel();
  assert.equal(module.status, 404, "the gateway serves /client.js");
});

Deno.test("demo page routes - with clientModule, /client.js is the built client", async () => {
  const app = createPageRoutes({ clientModule: true });
  const module = await app.request("/client.js");
  assert.equal(module.status, 200);
  assert.equal(await module.text(), await Deno.readTextFile(MIN_JS));
});
