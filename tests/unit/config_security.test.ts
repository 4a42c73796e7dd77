import assert from "node:assert/strict";
import { loadConfig } from "../../shared/config.ts";
import { ConfigError } from "../../shared/errors.ts";

const gatewayEnv = {
  WSGW_ETCD: "http://127.0.0.1:2379",
  WSGW_REDIS: "redis://127.0.0.1:6379",
  WSGW_JWT_SECRET: "0123456789abcdef0123456789abcdef",
  WSGW_INTERNAL_SECRET: "internal-0123456789abcdef0123456789",
};
const routerEnv = {
  WSGW_ETCD: "http://127.0.0.1:2379",
  WSGW_REDIS: "redis://127.0.0.1:6379",
  WSGW_API_KEYS: "k".repeat(24),
  WSGW_INTERNAL_SECRET: "internal-0123456789abcdef0123456789",
};
const KEY = "0123456789abcdefghijklmn";

function configError(
  env: Record<string, string>,
  mode: "gateway" | "router" = "gateway",
): ConfigError {
  try {
    loadConfig(
      { ...(mode === "gateway" ? gatewayEnv : routerEnv), ...env },
      mode,
    );
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error;
  }
  assert.fail("expected a ConfigError");
}

Deno.test("config - API keys carry scopes; a bare key is admin", () => {
  const { config } = loadConfig({
    ...routerEnv,
    WSGW_API_KEYS: `p${KEY}:push, b${KEY}:broadcast ,a${KEY}:admin,plain${KEY}`,
  }, "router");
  assert.deepEqual(config.apiKeys, [
    { key: `p${KEY}`, scope: "push" },
    { key: `b${KEY}`, scope: "broadcast" },
    { key: `a${KEY}`, scope: "admin" },
    { key: `plain${KEY}`, scope: "admin" },
  ]);
});

Deno.test("config - an unknown scope names the variable and entry, never the key", () => {
  const error = configError(
    { WSGW_API_KEYS: `good${KEY},s3cr3t-key:root` },
    "router",
  );
  assert.equal(error.variable, "WSGW_API_KEYS");
  assert.match(error.message, /entry 2 has scope "root"/);
  assert.doesNotMatch(error.message, /s3cr3t/);
  assert.equal(
    configError({ WSGW_API_KEYS: ":push" }, "router").message,
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

Deno.test("config - short and placeholder secrets are refused outside dev mode, saying how to make one and never showing it", () => {
  const cases: [Record<string, string>, "gateway" | "router", string][] = [
    [{ WSGW_JWT_SECRET: "short-jwt-value" }, "gateway", "WSGW_JWT_SECRET"],
    [
      { WSGW_JWT_PREVIOUS_SECRET: "short-jwt-value" },
      "gateway",
      "WSGW_JWT_PREVIOUS_SECRET",
    ],
    [
      { WSGW_JWT_SECRET: "change-me-jwt-secret-of-32-characters" },
      "gateway",
      "WSGW_JWT_SECRET",
    ],
    [
      { WSGW_INTERNAL_SECRET: "short-int-value" },
      "gateway",
      "WSGW_INTERNAL_SECRET",
    ],
    [
      { WSGW_INTERNAL_SECRET: "change-me-internal-secret" },
      "router",
      "WSGW_INTERNAL_SECRET",
    ],
    [
      { WSGW_INTERNAL_OTHER_SECRET: "short-int-value" },
      "router",
      "WSGW_INTERNAL_OTHER_SECRET",
    ],
    [
      { WSGW_API_KEYS: `${KEY},short-key-value:push` },
      "router",
      "WSGW_API_KEYS",
    ],
    [{ WSGW_API_KEYS: "change-me-push-key:push" }, "router", "WSGW_API_KEYS"],
  ];
  for (const [env, mode, variable] of cases) {
    const error = configError(env, mode);
    assert.equal(error.variable, variable, error.message);
    assert.match(error.message, /openssl rand -hex 32/);
    for (const value of Object.values(env)) {
      for (const part of value.split(/[,:]/)) {
        if (part.length > 8 && part !== KEY) {
          assert.ok(!error.message.includes(part), error.message);
        }
      }
    }
  }
  // Dev mode keeps its fallbacks, loudly.
  const { warnings } = loadConfig({}, "embedded");
  assert.ok(warnings.some((w) => w.includes("insecure development value")));
});

Deno.test("config - each role requires only its own secrets and is told of others", () => {
  const gateway = loadConfig(gatewayEnv, "gateway");
  assert.deepEqual(gateway.config.apiKeys, []);
  assert.deepEqual(gateway.warnings, []);
  const router = loadConfig(routerEnv, "router");
  assert.equal(router.config.jwtSecret, undefined);
  assert.deepEqual(router.warnings, []);
  const both = { ...gatewayEnv, ...routerEnv };
  const g = loadConfig(both, "gateway");
  assert.equal(g.warnings.length, 1);
  assert.match(
    g.warnings[0]!,
    /^WSGW_API_KEYS is set but a gateway does not use it/,
  );
  assert.deepEqual(g.config.apiKeys, [], "a gateway never loads API keys");
  const r = loadConfig(both, "router");
  assert.match(
    r.warnings[0]!,
    /^WSGW_JWT_SECRET is set but a router does not use it/,
  );
  assert.equal(r.config.jwtSecret, undefined);
  assert.equal(
    configError({ WSGW_JWT_SECRET: "" }).variable,
    "WSGW_JWT_SECRET",
  );
  assert.equal(
    configError({ WSGW_API_KEYS: "" }, "router").variable,
    "WSGW_API_KEYS",
  );
});
