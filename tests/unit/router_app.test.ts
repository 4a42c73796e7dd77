import assert from "node:assert/strict";
import {
  API_KEY,
  historyWith,
  routerFixture,
} from "../_support/router_fixture.ts";
import { MemoryHistory } from "../../shared/history/mod.ts";
import type { RouteCache } from "../../router/route_cache.ts";
import { UnavailableError } from "../../shared/errors.ts";

async function errorOf(response: Response) {
  const body = await response.json();
  return { status: response.status, ...body.error };
}

const push = { users: ["u1"], data: { hello: "world" } };

Deno.test("auth - missing API key is 401 unauthorized", async () => {
  await using f = await routerFixture();
  const response = await f.app.request("/v1/push", {
    method: "POST",
    body: JSON.stringify(push),
  });
  assert.equal(response.headers.get("www-authenticate"), 'Bearer realm="wsgw"');
  assert.deepEqual(await errorOf(response), {
    status: 401,
    code: "unauthorized",
    message: "a bearer API key is required",
  });
});

Deno.test("auth - a non-bearer Authorization is 401", async () => {
  await using f = await routerFixture();
  const response = await f.request("/v1/nodes", {
    headers: { authorization: `Basic ${btoa(`x:${API_KEY}`)}` },
  });
  assert.equal((await errorOf(response)).code, "unauthorized");
});

Deno.test("auth - wrong API key is 403 forbidden", async () => {
  await using f = await routerFixture();
  const response = await f.request("/v1/nodes", {
    headers: { authorization: "Bearer nope" },
  });
  assert.deepEqual(await errorOf(response), {
    status: 403,
    code: "forbidden",
    message: "the API key is not valid",
  });
});

Deno.test("auth - every configured key is accepted", async () => {
  await using f = await routerFixture();
  for (const key of ["other-key", API_KEY]) {
    const response = await f.request("/v1/nodes", {
      headers: { authorization: `bearer ${key}` },
    });
    assert.equal(response.status, 200);
    await response.body?.cancel();
  }
});

Deno.test("push - invalid JSON is 400 invalid_json", async () => {
  await using f = await routerFixture();
  const response = await f.request("/v1/push", {
    method: "POST",
    body: '{"users": [',
  });
  assert.deepEqual(await errorOf(response), {
    status: 400,
    code: "invalid_json",
    message: "body: is not valid JSON",
  });
});

Deno.test("push - an empty body is 400 invalid_json", async () => {
  await using f = await routerFixture();
  const response = await f.request("/v1/push", { method: "POST" });
  assert.equal((await errorOf(response)).code, "invalid_json");
});

Deno.test("push - schema errors are 400 bad_request naming the field", async () => {
  await using f = await routerFixture();
  const cases: [unknown, string][] = [
    [[], "body: must be an object"],
    [{ data: 1 }, "users: is required"],
    [{ users: "u1", data: 1 }, "users: must be an array"],
    [{ users: [], data: 1 }, "users: must have 1 to 10000 entries"],
    [{ users: ["u1"] }, "data: is required"],
    [{ users: ["a", "b", "c", 4], data: 1 }, "users[3]: must be a string"],
    [
      { users: ["a", "b", "c", "x".repeat(129)], data: 1 },
      "users[3]: must be 1 to 128 characters",
    ],
    [{ users: [""], data: 1 }, "users[0]: must be 1 to 128 characters"],
    [
      { users: ["ok", "bad\nid"], data: 1 },
      "users[1]: must not contain control characters",
    ],
    [{ users: ["u1"], data: 1, id: "" }, "id: must be 1 to 128 characters"],
    [
      { users: ["u1"], data: 1, id: "i".repeat(129) },
      "id: must be 1 to 128 characters",
    ],
    [{ users: ["u1"], data: 1, id: 7 }, "id: must be a string"],
    [{ users: ["u1"], data: 1, device: 7 }, "device: must be a string"],
  ];
  for (const [body, message] of cases) {
    const response = await f.request("/v1/push", { json: body });
    assert.deepEqual(await errorOf(response), {
      status: 400,
      code: "bad_request",
      message,
    }, JSON.stringify(body).slice(0, 80));
  }
});

Deno.test("push - 128 emoji are a valid user id (characters, not UTF-16 units)", async () => {
  await using f = await routerFixture();
  const user = "😀".repeat(128);
  const response = await f.request("/v1/push", {
    json: { users: [user], data: 1 },
  });
  assert.equal(response.status, 200);
  assert.equal((await response.json()).results[0].user, user);
});

Deno.test("push - more than 10000 users is 400 naming users", async () => {
  await using f = await routerFixture({
    env: { WSGW_MAX_BODY_BYTES: String(1 << 20) },
  });
  const users = Array.from({ length: 10_001 }, (_, i) => `u${i}`);
  const response = await f.request("/v1/push", { json: { users, data: 1 } });
  assert.deepEqual(await errorOf(response), {
    status: 400,
    code: "bad_request",
    message: "users: must have 1 to 10000 entries",
  });
});

Deno.test("push - body over the limit with content-length is 413 payload_too_large", async () => {
  await using f = await routerFixture({
    env: { WSGW_MAX_BODY_BYTES: "2048" },
  });
  const body = JSON.stringify({ users: ["u1"], data: "x".repeat(3000) });
  const response = await f.request("/v1/push", {
    method: "POST",
    body,
    headers: { "content-length": String(body.length) },
  });
  assert.deepEqual(await errorOf(response), {
    status: 413,
    code: "payload_too_large",
    message: "body is larger than 2048 bytes",
  });
  // The declared length alone is refused, before any of the body is read.
  const small = JSON.stringify(push);
  const declared = await f.request("/v1/push", {
    method: "POST",
    body: small,
    headers: { "content-length": "999999" },
  });
  assert.equal((await errorOf(declared)).code, "payload_too_large");
});

Deno.test("push - chunked body over the limit without content-length is 413", async () => {
  await using f = await routerFixture({
    env: { WSGW_MAX_BODY_BYTES: "2048" },
  });
  const chunk = new TextEncoder().encode("x".repeat(1000));
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      // An endless body: the router must stop reading by itself.
      sent += 1;
      if (sent === 1) {
        controller.enqueue(
          new TextEncoder().encode('{"users":["u1"],"data":"'),
        );
      } else controller.enqueue(chunk);
    },
  });
  const request = new Request("http://router.test/v1/push", {
    method: "POST",
    body,
    headers: { authorization: `Bearer ${API_KEY}` },
  });
  assert.equal(request.headers.get("content-length"), null);
  const response = await f.app.request(request);
  assert.equal((await errorOf(response)).code, "payload_too_large");
  assert.ok(sent < 10, `read ${sent} chunks of an endless body`);
});

Deno.test("push - data over maxMessageBytes is 413 message_too_large", async () => {
  await using f = await routerFixture();
  const response = await f.request("/v1/push", {
    // 400 three-byte characters: 1202 bytes of JSON, over 1024.
    json: { users: ["u1"], data: "€".repeat(400) },
  });
  assert.deepEqual(await errorOf(response), {
    status: 413,
    code: "message_too_large",
    message: "data: is 1202 bytes of JSON, more than 1024",
  });
  const ok = await f.request("/v1/push", {
    json: { users: ["u1"], data: "x".repeat(1000) },
  });
  assert.equal(ok.status, 200);
  await ok.body?.cancel();
});

Deno.test("app - unknown routes are JSON 404", async () => {
  await using f = await routerFixture();
  for (const path of ["/nope", "/v1/nope"]) {
    const response = await f.request(path);
    assert.equal((await errorOf(response)).code, "not_found");
  }
});

Deno.test("app - unexpected errors are 500 internal without details, logged with the request id", async () => {
  const routes = {
    owners() {
      throw new Error("secret detail");
    },
  } as unknown as RouteCache;
  await using g = await routerFixture({ override: { routes } });
  const response = await g.request("/v1/users/u1/presence", {
    headers: {
      authorization: `Bearer ${API_KEY}`,
      "x-request-id": "req-42",
    },
  });
  const text = await response.text();
  assert.equal(response.status, 500);
  assert.deepEqual(JSON.parse(text), {
    error: { code: "internal", message: "internal error" },
  });
  assert.ok(!text.includes("secret"));
  const logged = g.logs.find((line) => line.event === "unexpected error");
  assert.equal(logged?.requestId, "req-42");
  assert.equal(logged?.route, "/v1/users/:user/presence");
});

Deno.test("healthz - answers ok with the release of deno.json", async () => {
  await using f = await routerFixture();
  const response = await f.app.request("/healthz");
  assert.equal(response.status, 200);
  const { version } = JSON.parse(
    await Deno.readTextFile(new URL("../../deno.json", import.meta.url)),
  );
  assert.match(version, /^\d+\.\d+\.\d+$/);
  assert.deepEqual(await response.json(), { status: "ok", version });
});

Deno.test("readyz - ready when registry, history and route cache are", async () => {
  await using f = await routerFixture();
  const response = await f.app.request("/readyz");
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), {
    status: "ready",
    checks: { registry: "ok", history: "ok", routes: "ok" },
  });
});

Deno.test("readyz - 503 naming the failed check", async () => {
  const history = new MemoryHistory({ size: 10, ttl: 60 });
  const broken = historyWith(history, {
    ping: () => Promise.reject(new Error("ECONNREFUSED 10.0.0.1:6379")),
  });
  await using f = await routerFixture({
    history: broken,
    override: {
      readyChecks: {
        draining: () => {
          throw new UnavailableError("node is draining");
        },
      },
    },
  });
  const response = await f.app.request("/readyz");
  assert.equal(response.status, 503);
  assert.deepEqual(await response.json(), {
    status: "not ready",
    checks: {
      registry: "ok",
      history: "unavailable",
      routes: "ok",
      draining: "node is draining",
    },
  });
});

Deno.test("readyz - 503 until the route cache has its first listing", async () => {
  const routes = { isReady: false } as unknown as RouteCache;
  await using f = await routerFixture({ override: { routes } });
  const response = await f.app.request("/readyz");
  assert.equal(response.status, 503);
  assert.equal(
    (await response.json()).checks.routes,
    "waiting for the first registry listing",
  );
});

Deno.test("openapi - /openapi.json is JSON describing every /v1 route", async () => {
  await using f = await routerFixture();
  const response = await f.app.request("/openapi.json");
  assert.equal(response.status, 200);
  const doc = await response.json();
  assert.equal(doc.openapi, "3.1.0");
  for (
    const path of [
      "/v1/push",
      "/v1/broadcast",
      "/v1/users/{user}/presence",
      "/v1/users/{user}/disconnect",
      "/v1/users/{user}/messages",
      "/v1/nodes",
    ]
  ) {
    assert.ok(doc.paths[path], path);
  }
  const pushRequest = doc.components.schemas.PushRequest;
  assert.deepEqual(pushRequest.required, ["users", "data"]);
  assert.equal(pushRequest.properties.users.maxItems, 10000);
  assert.match(doc.info.description, /unreachable/);
  // Every $ref points at a schema that exists.
  for (const [, ref] of JSON.stringify(doc).matchAll(/"\$ref":"([^"]+)"/g)) {
    const name = ref!.replace("#/components/schemas/", "");
    assert.ok(doc.components.schemas[name], `${ref} resolves`);
  }
});

Deno.test("metrics - /metrics renders the router metrics by route pattern", async () => {
  await using f = await routerFixture();
  const node = await f.addNode("n1");
  await f.connect(node, "secret-user");
  await (await f.request("/v1/push", {
    json: { users: ["secret-user"], data: 1 },
  })).body?.cancel();
  await (await f.request("/v1/users/secret-user/presence")).body?.cancel();
  await (await f.app.request("/v1/nodes")).body?.cancel();
  const response = await f.app.request("/metrics");
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /^text\/plain/);
  const text = await response.text();
  for (
    const name of [
      "wsgw_push_requests_total",
      "wsgw_push_duration_seconds",
      "wsgw_forward_requests_total",
      "wsgw_route_cache_entries",
      "wsgw_history_errors_total",
    ]
  ) {
    assert.ok(text.includes(`# TYPE ${name} `), name);
  }
  assert.ok(
    text.includes('wsgw_push_requests_total{route="/v1/push",status="200"} 1'),
  );
  assert.ok(
    text.includes(
      'wsgw_push_requests_total{route="/v1/users/:user/presence",status="200"} 1',
    ),
  );
  assert.ok(
    text.includes('wsgw_push_requests_total{route="/v1/nodes",status="401"} 1'),
  );
  assert.ok(text.includes('wsgw_forward_requests_total{status="ok"} 2'));
  assert.ok(text.includes("wsgw_route_cache_entries 1"));
  assert.ok(!text.includes("secret-user"));
});
