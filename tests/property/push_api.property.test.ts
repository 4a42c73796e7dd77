/**
 * Property: whatever body, headers and path a caller sends to the push API,
 * the answer is a specified status with a JSON error of a known code, never a
 * 500, never the caller's secret echoed; and the API keeps working after.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { API_KEY, routerFixture } from "../_support/router_fixture.ts";

const STATUSES = new Set([200, 400, 401, 403, 404, 409, 413]);
const CODES = new Set([
  "bad_request",
  "invalid_json",
  "unauthorized",
  "forbidden",
  "insufficient_scope",
  "not_found",
  "payload_too_large",
  "message_too_large",
  "too_many_users",
  "push_in_progress",
]);

const userSegment = fc.oneof(
  fc.string({ unit: "grapheme", minLength: 1, maxLength: 20 }),
  fc.string({ unit: "binary", maxLength: 20 }),
  fc.constantFrom("..", "%2F", "a/b", "%00", "%E0%A4%A", " "),
);
const path = fc.oneof(
  fc.constantFrom("/v1/push", "/v1/broadcast", "/v1/nodes", "/v1/", "/v2/push"),
  userSegment.map((u) => `/v1/users/${safeEncode(u)}/presence`),
  userSegment.map((u) => `/v1/users/${safeEncode(u)}/disconnect`),
  fc.tuple(userSegment, fc.string({ maxLength: 12 })).map(([u, q]) =>
    `/v1/users/${safeEncode(u)}/messages?since=${encodeURIComponent(q)}&limit=${
      encodeURIComponent(q)
    }`
  ),
);
/** Push-shaped bodies with fields of random types, and plain junk. */
const body = fc.oneof(
  fc.string(),
  fc.string({ unit: "binary" }),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.record({
    users: fc.oneof(
      fc.array(fc.oneof(fc.string({ unit: "binary" }), fc.jsonValue()), {
        maxLength: 5,
      }),
      fc.jsonValue(),
    ),
    data: fc.jsonValue(),
    id: fc.oneof(fc.string({ unit: "binary" }), fc.jsonValue()),
    device: fc.oneof(fc.string(), fc.jsonValue()),
  }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
  fc.uint8Array({ maxLength: 64 }),
);
const authorization = fc.oneof(
  fc.constant(`Bearer ${API_KEY}`),
  fc.constant(undefined),
  fc.string().map((s) => `Bearer ${s}`),
  fc.string(),
);

/** encodeURIComponent, except that a lone surrogate is sent as raw bad bytes. */
function safeEncode(text: string): string {
  return text.isWellFormed()
    ? encodeURIComponent(text)
    : "%ED%A0%80" + encodeURIComponent(text.toWellFormed());
}

Deno.test("property - random requests to the push API always get a specified answer", async () => {
  await using f = await routerFixture();
  const node = await f.addNode("n1");
  await f.connect(node, "alice");
  const seen = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom("GET", "POST", "PUT", "DELETE"),
      path,
      body,
      authorization,
      fc.option(
        fc.constantFrom(
          "application/json",
          "text/plain",
          "",
          "application/json; charset=latin1",
        ),
        { nil: undefined },
      ),
      async (method, url, payload, auth, contentType) => {
        const headers = new Headers();
        if (auth !== undefined) {
          try {
            headers.set("authorization", auth);
          } catch {
            return; // not a header value any client can send
          }
        }
        if (contentType !== undefined) headers.set("content-type", contentType);
        const response = await f.app.request(url, {
          method,
          headers,
          ...(method === "GET" ? {} : { body: payload }),
        });
        const text = await response.text();
        seen.set(response.status, (seen.get(response.status) ?? 0) + 1);
        assert.ok(STATUSES.has(response.status), `${response.status} ${text}`);
        if (response.status >= 400) {
          const { error } = JSON.parse(text);
          assert.ok(CODES.has(error.code), error.code);
          assert.equal(typeof error.message, "string");
          const secret = auth?.replace(/^Bearer /, "") ?? "";
          if (secret.length > 8) {
            assert.ok(!text.includes(secret), "no echo of the key");
          }
        }
      },
    ),
    { numRuns: 600 },
  );
  assert.ok(
    !f.logs.some((l) => l.level === "error"),
    "nothing unexpected was logged",
  );
  const after = await f.request("/v1/push", {
    json: { users: ["alice"], data: 1 },
  });
  assert.equal(after.status, 200);
  assert.equal((await after.json()).results[0].devices, 1);
});
