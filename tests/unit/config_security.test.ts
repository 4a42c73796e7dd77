import assert from "node:assert/strict";
import { loadConfig } from "../../shared/config.ts";
import { ConfigError } from "../../shared/errors.ts";

const gatewayEnv = {
  WSGW_ETCD: "http://127.0.0.1:2379",
  WSGW_REDIS: "redis://127.0.0.1:6379",
  WSGW_API_KEYS: "k",
  WSGW_JWT_SECRET: "0123456789abcdef0123456789abcdef",
  WSGW_INTERNAL_SECRET: "internal",
};

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig({ ...gatewayEnv, ...env }, "gateway");
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error;
  }
  assert.fail("expected a ConfigError");
}

Deno.test("config - API keys carry scopes; a bare key is admin", () => {
  const { config } = loadConfig({
    ...gatewayEnv,
    WSGW_API_KEYS: "pk:push, bk:broadcast ,ak:admin,plain",
  }, "gateway");
  assert.deepEqual(config.apiKeys, [
    { key: "pk", scope: "push" },
    { key: "bk", scope: "broadcast" },
    { key: "ak", scope: "admin" },
    { key: "plain", scope: "admin" },
  ]);
});

Deno.test("config - an unknown scope names the variable and entry, never the key", () => {
  const error = configError({ WSGW_API_KEYS: "good,s3cr3t-key:root" });
  assert.equal(error.variable, "WSGW_API_KEYS");
  assert.match(error.message, /entry 2 has scope "root"/);
  assert.doesNotMatch(error.message, /s3cr3t/);
  assert.equal(
    configError({ WSGW_API_KEYS: ":push" }).message,
    'WSGW_API_KEYS: entry 1 has an empty key before ":"',
  );
});

Deno.test("config - token policy defaults and bounds", () => {
  const { config } = loadConfig(gatewayEnv, "gateway");
  assert.equal(config.jwtClockSkew, 5);
  assert.equal(config.jwtPreviousSecret, undefined);
  assert.equal(config.jwtAudience, undefined);
  assert.equal(config.connectRate, 50);
  assert.deepEqual(config.allowedOrigins, []);
  assert.equal(config.maxPushUsers, 10000);
  assert.equal(config.nodeSendBufferBytes, 256 * 1024 * 1024);
  assert.equal(
    configError({ WSGW_JWT_CLOCK_SKEW: "301" }).variable,
    "WSGW_JWT_CLOCK_SKEW",
  );
  assert.equal(
    configError({ WSGW_MAX_PUSH_USERS: "10001" }).variable,
    "WSGW_MAX_PUSH_USERS",
  );
  assert.equal(
    configError({ WSGW_CONNECT_RATE: "-1" }).variable,
    "WSGW_CONNECT_RATE",
  );
  assert.equal(
    configError({ WSGW_NODE_SEND_BUFFER_BYTES: "1000" }).variable,
    "WSGW_NODE_SEND_BUFFER_BYTES",
  );
});

Deno.test("config - allowed origins must be bare origins", () => {
  const { config } = loadConfig({
    ...gatewayEnv,
    WSGW_ALLOWED_ORIGINS: "https://app.example.com,http://localhost:3000",
  }, "gateway");
  assert.deepEqual(config.allowedOrigins, [
    "https://app.example.com",
    "http://localhost:3000",
  ]);
  for (const bad of ["app.example.com", "https://app.example.com/", "*"]) {
    assert.equal(
      configError({ WSGW_ALLOWED_ORIGINS: bad }).variable,
      "WSGW_ALLOWED_ORIGINS",
      bad,
    );
  }
});

Deno.test("config - a short JWT secret is a loud warning outside dev mode", () => {
  const { warnings } = loadConfig({
    ...gatewayEnv,
    WSGW_JWT_SECRET: "short",
    WSGW_JWT_PREVIOUS_SECRET: "0123456789abcdef0123456789abcdef",
  }, "gateway");
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /^WSGW_JWT_SECRET is shorter than 32 characters/);
});
