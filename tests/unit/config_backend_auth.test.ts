import assert from "node:assert/strict";
import { loadConfig } from "../../shared/config.ts";
import { ConfigError } from "../../shared/errors.ts";

const BASE = {
  WSGW_ETCD: "http://etcd:2379",
  WSGW_REDIS: "redis://redis:6379",
  WSGW_API_KEYS: "k".repeat(32),
  WSGW_JWT_SECRET: "j".repeat(32),
  WSGW_INTERNAL_SECRET: "i".repeat(32),
};
const SECRET = "s3cr3t-pass-word";

function refused(env: Record<string, string>, variable: string): void {
  assert.throws(
    () => loadConfig({ ...BASE, ...env }, "router"),
    (e) => {
      assert.ok(e instanceof ConfigError, String(e));
      assert.equal(e.variable, variable, e.message);
      assert.ok(!e.message.includes(SECRET), e.message);
      return true;
    },
  );
}

Deno.test("config - etcd credentials come from user:pass@ or their own variables, never stay in the endpoints", () => {
  const { config } = loadConfig({
    ...BASE,
    WSGW_ETCD:
      `http://wsgw:${SECRET}@etcd1:2379,http://wsgw:${SECRET}@etcd2:2379`,
  }, "router");
  assert.deepEqual(config.etcd, ["http://etcd1:2379", "http://etcd2:2379"]);
  assert.equal(config.etcdUsername, "wsgw");
  assert.equal(config.etcdPassword, SECRET);
  const own = loadConfig({
    ...BASE,
    WSGW_ETCD_USERNAME: "wsgw",
    WSGW_ETCD_PASSWORD: SECRET,
  }, "router").config;
  assert.equal(own.etcdPassword, SECRET);
  assert.deepEqual(own.etcd, ["http://etcd:2379"]);
});

Deno.test("config - bad etcd and Redis security settings name their variable and never the password", () => {
  refused(
    { WSGW_ETCD: `http://a:${SECRET}@x:1,http://b:${SECRET}@y:1` },
    "WSGW_ETCD",
  );
  refused({ WSGW_ETCD: `http://a:${SECRET}@x y:1` }, "WSGW_ETCD");
  refused({ WSGW_ETCD: `ftp://a:${SECRET}@x:1` }, "WSGW_ETCD");
  refused({ WSGW_ETCD_USERNAME: "wsgw" }, "WSGW_ETCD_PASSWORD");
  refused({ WSGW_ETCD_CA: "/ca.pem" }, "WSGW_ETCD");
  refused({ WSGW_ETCD: "https://10.0.0.1:2379" }, "WSGW_ETCD");
  refused(
    { WSGW_ETCD_CERT: "/c.pem", WSGW_ETCD: "https://etcd:2379" },
    "WSGW_ETCD_KEY",
  );
  refused({ WSGW_REDIS_CA: "/ca.pem" }, "WSGW_REDIS");
  refused({
    WSGW_REDIS: `redis://:${SECRET}@redis:6379`,
    WSGW_REDIS_PASSWORD: SECRET,
  }, "WSGW_REDIS_PASSWORD");
  refused({ WSGW_REDIS: `redis://:${SECRET}@red is:6379` }, "WSGW_REDIS");
});

Deno.test("config - WSGW_REDIS_PASSWORD (and _USERNAME) join the Redis URL", () => {
  const { config } = loadConfig({
    ...BASE,
    WSGW_REDIS_USERNAME: "wsgw",
    WSGW_REDIS_PASSWORD: "p@ss/word",
  }, "router");
  const url = new URL(config.redis!);
  assert.equal(decodeURIComponent(url.username), "wsgw");
  assert.equal(decodeURIComponent(url.password), "p@ss/word");
  assert.equal(url.host, "redis:6379");
});

Deno.test("config - placeholder backend passwords are refused wherever they are given; etcd's root password is not a node's", () => {
  const placeholder = "change-me-etcd-password";
  for (
    const [env, variable] of [
      [{ WSGW_ETCD: `http://wsgw:${placeholder}@etcd:2379` }, "WSGW_ETCD"],
      [{ WSGW_REDIS: `redis://:${placeholder}@redis:6379` }, "WSGW_REDIS"],
      [
        { WSGW_ETCD_USERNAME: "wsgw", WSGW_ETCD_PASSWORD: placeholder },
        "WSGW_ETCD_PASSWORD",
      ],
      [{ WSGW_REDIS_PASSWORD: placeholder }, "WSGW_REDIS_PASSWORD"],
    ] as const
  ) {
    assert.throws(
      () => loadConfig({ ...BASE, ...env }, "router"),
      (e) => {
        assert.ok(e instanceof ConfigError, String(e));
        assert.equal(e.variable, variable, e.message);
        assert.match(e.message, /placeholder/);
        assert.ok(!e.message.includes(placeholder), e.message);
        return true;
      },
    );
  }
  // A backend password is the backend owner's choice: any length passes.
  assert.doesNotThrow(() =>
    loadConfig({ ...BASE, WSGW_REDIS_PASSWORD: "short" }, "router")
  );
  const { warnings } = loadConfig(
    { ...BASE, WSGW_ETCD_ROOT_PASSWORD: "r".repeat(32) },
    "router",
  );
  assert.ok(
    warnings.some((w) =>
      /^WSGW_ETCD_ROOT_PASSWORD is set but a router does not use it/.test(w)
    ),
    warnings.join("\n"),
  );
});
