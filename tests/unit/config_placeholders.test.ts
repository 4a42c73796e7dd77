/**
 * A gateway or router refuses to start with the example files' placeholder
 * secrets, naming the variable and how to generate real ones; the embedded
 * process (development secrets by design) is not concerned.
 */
import assert from "node:assert/strict";
import { loadConfig } from "../../shared/config.ts";
import { ConfigError } from "../../shared/errors.ts";

const real = {
  WSGW_ETCD: "http://127.0.0.1:2379",
  WSGW_REDIS: "redis://127.0.0.1:6379",
  WSGW_API_KEYS: "a1b2c3d4e5f6a7b8a1b2c3d4:push,0f1e2d3c4b5a69780f1e2d3c:admin",
  WSGW_JWT_SECRET: "0123456789abcdef0123456789abcdef",
  WSGW_INTERNAL_SECRET: "fedcba9876543210fedcba9876543210",
};

/** The values of ops/compose.env.example, read from the file itself. */
async function exampleEnv(): Promise<Record<string, string>> {
  const text = await Deno.readTextFile(
    new URL("../../ops/compose.env.example", import.meta.url),
  );
  return Object.fromEntries(
    text.split("\n").filter((l) => /^[A-Z_]+=/.test(l)).map((l) => {
      const at = l.indexOf("=");
      return [l.slice(0, at), l.slice(at + 1)];
    }),
  );
}

/**
 * What compose.yaml gives each role from the env file: gateways the token
 * secrets, routers the API keys, both the internal secret and the backend
 * logins (the etcd user name is compose's own, "wsgw").
 */
const ROLE_VARIABLES = {
  gateway: ["WSGW_JWT_SECRET", "WSGW_JWT_PREVIOUS_SECRET"],
  router: ["WSGW_API_KEYS"],
  both: [
    "WSGW_INTERNAL_SECRET",
    "WSGW_INTERNAL_OTHER_SECRET",
    "WSGW_ETCD_PASSWORD",
    "WSGW_REDIS_PASSWORD",
  ],
};

function roleEnv(
  example: Record<string, string>,
  mode: "gateway" | "router",
): Record<string, string> {
  const env: Record<string, string> = {
    WSGW_ETCD: real.WSGW_ETCD,
    WSGW_REDIS: real.WSGW_REDIS,
    WSGW_ETCD_USERNAME: "wsgw",
  };
  for (const name of [...ROLE_VARIABLES[mode], ...ROLE_VARIABLES.both]) {
    if (example[name] !== undefined) env[name] = example[name];
  }
  return env;
}

for (const mode of ["gateway", "router"] as const) {
  Deno.test(`config - ${mode}: the example env file's secrets are refused`, async () => {
    const example = await exampleEnv();
    assert.throws(
      () => loadConfig(roleEnv(example, mode), mode),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, /change-me/);
        assert.match(error.message, /deno task ctl secrets/);
        assert.match(error.message, /openssl rand -hex 32/);
        return true;
      },
    );
  });

  Deno.test(`config - ${mode}: each placeholder of the example env file is refused on its own`, async () => {
    const example = await exampleEnv();
    const strong: Record<string, string> = {
      ...roleEnv(example, mode),
      ...real,
      WSGW_ETCD_PASSWORD: "9f8e7d6c5b4a39281706f5e4d3c2b1a0",
      WSGW_REDIS_PASSWORD: "a0b1c2d3e4f5061728394a5b6c7d8e9f",
    };
    if (mode === "gateway") delete strong.WSGW_API_KEYS;
    else delete strong.WSGW_JWT_SECRET;
    assert.deepEqual(loadConfig(strong, mode).warnings, []);
    const names = Object.keys(roleEnv(example, mode)).filter((name) =>
      /change-me/.test(example[name] ?? "")
    );
    assert.ok(names.includes("WSGW_ETCD_PASSWORD"), names.join());
    assert.ok(names.includes("WSGW_REDIS_PASSWORD"), names.join());
    for (const name of names) {
      assert.throws(
        () => loadConfig({ ...strong, [name]: example[name]! }, mode),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError, `${name}: ${error}`);
          assert.equal(error.variable, name);
          assert.match(error.message, /change-me/);
          assert.ok(!error.message.includes(example[name]!), "value printed");
          return true;
        },
        `${mode} accepts the placeholder of ${name}`,
      );
    }
  });
}

Deno.test("config - each placeholder is named by its variable (API keys by entry)", () => {
  // Each variable in a role that reads it: routers take no token secrets.
  const cases: [string, string, RegExp, "gateway" | "router"][] = [
    [
      "WSGW_JWT_SECRET",
      "change-me-jwt-secret-of-32-characters",
      /^WSGW_JWT_SECRET still/,
      "gateway",
    ],
    [
      "WSGW_JWT_PREVIOUS_SECRET",
      "CHANGEME",
      /^WSGW_JWT_PREVIOUS_SECRET still/,
      "gateway",
    ],
    [
      "WSGW_INTERNAL_SECRET",
      "change-me-internal",
      /^WSGW_INTERNAL_SECRET still/,
      "router",
    ],
    [
      "WSGW_INTERNAL_OTHER_SECRET",
      "change-me-other",
      /^WSGW_INTERNAL_OTHER_SECRET still/,
      "router",
    ],
    [
      "WSGW_API_KEYS",
      "realkey123-of-24-characters:push,change-me-admin-key:admin",
      /^WSGW_API_KEYS \(entry 2\) still/,
      "router",
    ],
  ];
  for (const [name, value, message, mode] of cases) {
    assert.throws(
      () => loadConfig({ ...real, [name]: value }, mode),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError, name);
        assert.equal(error.variable, name);
        assert.match(error.message, message);
        assert.ok(!error.message.includes(value), "the value was printed");
        return true;
      },
    );
  }
});

Deno.test("config - real secrets pass, and the embedded process keeps its dev values", () => {
  assert.doesNotThrow(() => loadConfig(real, "gateway"));
  // A word that merely contains the letters is no placeholder.
  assert.doesNotThrow(() =>
    loadConfig(
      { ...real, WSGW_API_KEYS: "exchange-merchant-key-0001:push" },
      "router",
    )
  );
  assert.doesNotThrow(() =>
    loadConfig({ WSGW_JWT_SECRET: "change-me-locally" }, "embedded")
  );
});
