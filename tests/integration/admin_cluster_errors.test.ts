/**
 * `GET /v1/admin/cluster` (admin keys only) shows why a backend is
 * unreachable in the backend's own words, as docs/SECURITY.md says: a real
 * Redis with a login in its URL, killed, is named by host and port, never by
 * its user or password.
 */
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { ClusterResponse } from "../../router/admin_schemas.ts";
import { RedisHistory } from "../../shared/history/redis.ts";
import { silentLogger } from "../../shared/log.ts";
import { startRedis } from "../../ops/servers/redis_server.ts";
import { routerFixture } from "../_support/router_fixture.ts";
import { waitFor } from "../_support/until.ts";

const USER = "wsgw-admin-view";
const PASSWORD = "wsgw-pw-5d0e1b";

Deno.test("admin cluster - a killed Redis is unreachable with the history's own words: host and port, never the login", async () => {
  await using redis = await startRedis();
  const admin = new Redis(redis.url);
  try {
    await admin.call(
      "ACL",
      "SETUSER",
      USER,
      "on",
      `>${PASSWORD}`,
      "~*",
      "+@all",
    );
  } finally {
    admin.disconnect();
  }
  const history = await RedisHistory.connect({
    url: `redis://${USER}:${PASSWORD}@127.0.0.1:${redis.port}`,
    size: 10,
    ttl: 60,
    log: silentLogger,
    connectTimeout: 1000,
  });
  await using f = await routerFixture({ history });
  const cluster = async () =>
    ClusterResponse.parse(
      await (await f.request("/v1/admin/cluster")).json(),
    );
  assert.equal((await cluster()).history.reachable, true);

  await redis.kill();
  const down = await waitFor(async () => {
    const { history } = await cluster();
    return history.error?.includes("is not connected") ? history : undefined;
  }, { what: "the history to be reported not connected" });
  assert.equal(down.reachable, false);
  assert.match(
    down.error!,
    new RegExp(
      `^history ping failed: Redis at redis://127\\.0\\.0\\.1:${redis.port} is not connected \\(\\w+\\)$`,
    ),
  );
  assert.ok(!down.error!.includes(PASSWORD), down.error!);
  assert.ok(!down.error!.includes(USER), down.error!);
});
