/**
 * `/client.js` as a page of another origin loads it: the minified build,
 * gzip when accepted, cacheable with an ETag (304 on revalidation), and CORS
 * per WSGW_ALLOWED_ORIGINS (`*` when none are set).
 */
import assert from "node:assert/strict";
import { createPublicRoutes } from "../../gateway/public_routes.ts";

const MIN_JS = new URL("../../client/dist/client.min.js", import.meta.url);

Deno.test("public routes - /client.js is the minified build, gzip-compressed, with an ETag and a 304 on revalidation", async () => {
  const app = createPublicRoutes();
  const plain = await app.request("/client.js");
  const body = await plain.text();
  assert.equal(body, await Deno.readTextFile(MIN_JS));
  const etag = plain.headers.get("etag");
  assert.match(etag ?? "", /^"[0-9a-f]{24}"$/);
  assert.match(plain.headers.get("cache-control")!, /max-age=\d+/);
  assert.equal(plain.headers.get("access-control-allow-origin"), "*");
  assert.equal(plain.headers.get("content-encoding"), null);

  const gzip = await app.request("/client.js", {
    headers: { "accept-encoding": "gzip, br" },
  });
  assert.equal(gzip.headers.get("content-encoding"), "gzip");
  const compressed = new Uint8Array(await gzip.arrayBuffer());
  assert.ok(compressed.length < body.length / 2, `${compressed.length} bytes`);
  const unzipped = await new Response(
    new Blob([compressed]).stream().pipeThrough(
      new DecompressionStream("gzip"),
    ),
  ).text();
  assert.equal(unzipped, body);
  assert.equal(gzip.headers.get("etag"), etag);

  const again = await app.request("/client.js", {
    headers: { "if-none-match": etag! },
  });
  assert.equal(again.status, 304);
  assert.equal(await again.text(), "");
  assert.equal(again.headers.get("etag"), etag);
});

Deno.test("public routes - with WSGW_ALLOWED_ORIGINS only those origins may read /client.js", async () => {
  const app = createPublicRoutes({ allowedOrigins: ["https://app.example"] });
  const allowed = await app.request("/client.js", {
    headers: { origin: "https://app.example" },
  });
  await allowed.body?.cancel();
  assert.equal(
    allowed.headers.get("access-control-allow-origin"),
    "https://app.example",
  );
  assert.match(allowed.headers.get("vary")!, /Origin/);
  const other = await app.request("/client.js", {
    headers: { origin: "https://evil.example" },
  });
  await other.body?.cancel();
  assert.equal(other.headers.get("access-control-allow-origin"), null);
});
