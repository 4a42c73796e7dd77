import assert from "node:assert/strict";
import { routerFixture } from "../_support/router_fixture.ts";

const KEYS = "pusher:push,announcer:broadcast,operator:admin";

/** Every /v1 route, what it needs, and a request that is valid for it. */
const ROUTES = [
  { scope: "push", path: "/v1/push", json: { users: ["u"], data: 1 } },
  { scope: "push", path: "/v1/users/u/presence" },
  { scope: "push", path: "/v1/users/u/messages" },
  { scope: "broadcast", path: "/v1/broadcast", json: { data: 1 } },
  { scope: "admin", path: "/v1/users/u/disconnect", json: {} },
  { scope: "admin", path: "/v1/nodes" },
  // The console's; the drain (202) is in router_admin.test.ts.
  { scope: "admin", path: "/v1/admin/cluster" },
  { scope: "admin", path: "/v1/admin/users/u" },
] as const;

const ALLOWED: Record<string, readonly string[]> = {
  pusher: ["push"],
  announcer: ["push", "broadcast"],
  operator: ["push", "broadcast", "admin"],
};

Deno.test("scopes - each key reaches exactly the routes of its scope", async () => {
  await using f = await routerFixture({ env: { WSGW_API_KEYS: KEYS } });
  for (const [key, scopes] of Object.entries(ALLOWED)) {
    for (const route of ROUTES) {
      const response = await f.request(route.path, {
        headers: { authorization: `Bearer ${key}` },
        ...("json" in route ? { json: route.json } : {}),
      });
      const body = await response.json();
      const label = `${key} ${route.path}`;
      if (scopes.includes(route.scope)) {
        assert.equal(response.status, 200, `${label}: ${JSON.stringify(body)}`);
      } else {
        assert.equal(response.status, 403, label);
        assert.equal(body.error.code, "insufficient_scope", label);
        assert.equal(
          body.error.message,
          `this API key has the ${
            key === "pusher" ? "push" : "broadcast"
          } scope; this route needs ${route.scope}`,
        );
      }
    }
  }
});

Deno.test("scopes - a wrong key is still 403 forbidden, without a key 401", async () => {
  await using f = await routerFixture({ env: { WSGW_API_KEYS: KEYS } });
  const wrong = await f.request("/v1/nodes", {
    headers: { authorization: "Bearer pusher:push" },
  });
  assert.equal(wrong.status, 403);
  assert.equal((await wrong.json()).error.code, "forbidden");
  const none = await f.app.request("/v1/nodes");
  assert.equal(none.status, 401);
});

Deno.test("limits - a push naming more users than WSGW_MAX_PUSH_USERS is 400 too_many_users", async () => {
  await using f = await routerFixture({ env: { WSGW_MAX_PUSH_USERS: "3" } });
  const ok = await f.request("/v1/push", {
    json: { users: ["a", "b", "c"], data: 1 },
  });
  assert.equal(ok.status, 200);
  const over = await f.request("/v1/push", {
    json: { users: ["a", "b", "c", "d"], data: 1 },
  });
  assert.equal(over.status, 400);
  assert.deepEqual((await over.json()).error, {
    code: "too_many_users",
    message: "users: at most 3 per push (WSGW_MAX_PUSH_USERS), got 4",
  });
});
