import assert from "node:assert/strict";
import { loadConfig } from "../../shared/config.ts";
import { ConfigError } from "../../shared/errors.ts";
import { parseClusterUrl } from "../../shared/history/redis_url.ts";

const BASE = {
  WSGW_ETCD: "http://etcd:2379",
  WSGW_API_KEYS: "k".repeat(32),
  WSGW_JWT_SECRET: "j".repeat(32),
  WSGW_INTERNAL_SECRET: "i".repeat(32),
};
const SECRET = "s3cr3t-pass-word";

const redisOf = (env: Record<string, string>) =>
  loadConfig({ ...BASE, ...env }, "router").config.redis;

function refused(
  env: Record<string, string>,
  variable: string,
  says: RegExp,
): void {
  assert.throws(
    () => loadConfig({ ...BASE, ...env }, "router"),
    (e) => {
      assert.ok(e instanceof ConfigError, String(e));
      assert.equal(e.variable, variable, e.message);
      assert.match(e.message, says);
      assert.ok(!e.message.includes(SECRET), e.message);
      return true;
    },
  );
}

Deno.test("config - WSGW_REDIS takes a Redis Cluster as redis+cluster:// seed nodes", () => {
  assert.equal(
    redisOf({ WSGW_REDIS: "redis+cluster://10.0.0.1:7000, 10.0.0.2:7001" }),
    "redis+cluster://10.0.0.1:7000,10.0.0.2:7001",
  );
  assert.deepEqual(
    parseClusterUrl(
      redisOf({ WSGW_REDIS: "rediss+cluster://redis-a,[::1]:7002/" })!,
    ),
    {
      tls: true,
      username: "",
      password: "",
      seeds: [{ host: "redis-a", port: 6379 }, { host: "::1", port: 7002 }],
    },
  );
  const joined = parseClusterUrl(
    redisOf({
      WSGW_REDIS: "redis+cluster://a:1,b:2",
      WSGW_REDIS_USERNAME: "wsgw",
      WSGW_REDIS_PASSWORD: "p@ss/word",
    })!,
  );
  assert.deepEqual([joined.username, joined.password], ["wsgw", "p@ss/word"]);
  const inline = parseClusterUrl(
    redisOf({ WSGW_REDIS: `redis+cluster://:${SECRET}@a:1,b:2` })!,
  );
  assert.equal(inline.password, SECRET);
});

Deno.test("config - a bad Redis Cluster URL names WSGW_REDIS and says what is wrong, never the password", () => {
  refused(
    { WSGW_REDIS: `redis://:${SECRET}@a:6379,b:6379` },
    "WSGW_REDIS",
    /redis\+cluster:\/\/host:port,host:port/,
  );
  refused(
    { WSGW_REDIS: `redis+cluster://:${SECRET}@a:1,,b:2` },
    "WSGW_REDIS",
    /"" is not a host:port/,
  );
  refused(
    { WSGW_REDIS: "redis+cluster://a:99999" },
    "WSGW_REDIS",
    /"a:99999" is not a host:port/,
  );
  refused(
    { WSGW_REDIS: "redis+cluster://a:1,b:2/3" },
    "WSGW_REDIS",
    /only database 0/,
  );
  refused(
    { WSGW_REDIS: `redis+cluster://:${SECRET}@a:1`, WSGW_REDIS_PASSWORD: "x" },
    "WSGW_REDIS_PASSWORD",
    /keep one/,
  );
  refused(
    { WSGW_REDIS: "redis+cluster://a:1", WSGW_REDIS_CA: "/ca.pem" },
    "WSGW_REDIS",
    /rediss\+cluster:\/\//,
  );
  refused(
    { WSGW_REDIS: "redis+cluster://:change-me@a:1" },
    "WSGW_REDIS",
    /placeholder/,
  );
});
