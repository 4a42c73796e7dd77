/**
 * compose.yaml as `docker-compose config` reads it with the example env
 * file: every long-running service healthy-checked, each role only its own
 * secrets, etcd and Redis with auth on, raised `nofile`, Redis persistence
 * and limits, a clear stop when a secret is missing; and the TLS override
 * with a real certificate through `haproxy -c`. (ops_compose_auth.test.ts
 * runs the auth scripts and the configs they feed.)
 */
import assert from "node:assert/strict";
import { parse as parseYaml } from "yaml";
import { makeThrowawayCert } from "../../ops/cluster/tls_cert.ts";
import { opsTest, ROOT, run } from "../_support/ops_tools.ts";

const HAPROXY = "ops/haproxy/haproxy.cfg";

function assertRan(
  ran: { code: number; stdout: string; stderr: string },
  what: string,
) {
  assert.equal(
    ran.code,
    0,
    `${what} failed (exit ${ran.code}):\n${ran.stdout}\n${ran.stderr}`,
  );
}

/** The shell script of a `sh -c` command, as the container's shell sees it. */
function redisScript(command: string[]): string {
  assert.equal(command[0], "sh");
  // `docker-compose config` prints a literal "$" as "$$".
  return command.at(-1)!.replaceAll("$$", "$");
}

opsTest(
  "ops - docker-compose config accepts compose.yaml with the example env file",
  [
    "docker-compose",
  ],
  async () => {
    const args = [
      "--env-file",
      "ops/compose.env.example",
      "-f",
      "compose.yaml",
    ];
    assertRan(
      await run("docker-compose", [...args, "config", "-q"]),
      "docker-compose config -q",
    );
    const { stdout } = await run("docker-compose", [...args, "config"]);
    const config = parseYaml(stdout) as {
      services: Record<string, {
        environment?: Record<string, string | null>;
        env_file?: unknown;
        healthcheck?: { test: string[] };
        ulimits?: { nofile?: { soft: number; hard: number } };
        command?: string[];
        entrypoint?: string[];
        depends_on?: Record<string, { condition: string }>;
      }>;
    };
    const services = config.services;
    const wsgw = ["gateway1", "gateway2", "gateway3", "router1", "router2"];
    // etcd-auth is a one-shot (checked below), every other service runs on.
    for (
      const service of [
        "etcd",
        "redis",
        "redis-exporter",
        ...wsgw,
        "haproxy",
        "prometheus",
        "grafana",
      ]
    ) {
      assert.ok(services[service], `no service ${service}`);
      assert.ok(
        services[service].healthcheck?.test?.length,
        `${service} has no healthcheck`,
      );
      assert.equal(
        services[service].env_file,
        undefined,
        `${service} env_file`,
      );
    }
    for (const i of [1, 2, 3]) {
      const env = services[`gateway${i}`]!.environment!;
      assert.equal(env.WSGW_NODE_ID, `gateway${i}`);
      assert.match(env.WSGW_INTERNAL_URL!, new RegExp(`^http://gateway${i}:`));
      assert.match(env.WSGW_PUBLIC_URL!, new RegExp(`^http://gateway${i}:`));
    }
    // Secrets reach only the services that use them: a gateway nothing that
    // can push, a router nothing that can sign a client token.
    const secretNames = /SECRET|API_KEYS|PASSWORD|AUTH/;
    const both = [
      "WSGW_ETCD_PASSWORD",
      "WSGW_INTERNAL_OTHER_SECRET",
      "WSGW_INTERNAL_SECRET",
      "WSGW_REDIS_PASSWORD",
    ];
    const expectedSecrets: Record<string, string[]> = {
      gateway: [...both, "WSGW_JWT_PREVIOUS_SECRET", "WSGW_JWT_SECRET"],
      router: [...both, "WSGW_API_KEYS"],
      "etcd-auth": ["WSGW_ETCD_PASSWORD", "WSGW_ETCD_ROOT_PASSWORD"],
      redis: ["REDISCLI_AUTH"],
      "redis-exporter": ["REDIS_PASSWORD"],
      grafana: ["GF_SECURITY_ADMIN_PASSWORD"],
    };
    for (const [name, service] of Object.entries(services)) {
      const secrets = Object.keys(service.environment ?? {}).filter((v) =>
        secretNames.test(v)
      ).sort();
      const role = name.replace(/\d+$/, "");
      const expected = (expectedSecrets[role] ?? []).toSorted();
      assert.deepEqual(secrets, expected, `secrets given to ${name}`);
    }
    for (const name of wsgw) {
      const env = services[name]!.environment!;
      assert.equal(env.WSGW_ETCD_USERNAME, "wsgw", `${name} etcd user`);
      assert.match(
        env.WSGW_ETCD_PASSWORD!,
        /^change-me-etcd-password/,
        `${name}: the etcd password comes from the env file`,
      );
      assert.match(env.WSGW_REDIS_PASSWORD!, /^change-me-redis-password/);
      assert.deepEqual(services[name]!.depends_on, {
        "etcd-auth": { condition: "service_completed_successfully" },
        redis: { condition: "service_healthy" },
      }, `${name} waits for etcd auth and a healthy Redis`);
    }
    assert.match(
      services.gateway1!.environment!.WSGW_JWT_SECRET!,
      /^change-me-jwt-secret/,
      "the secrets come from the env file",
    );

    // etcd auth: etcd-auth turns it on once etcd is up; the healthcheck
    // asks for the status, which needs no login.
    const etcdAuth = services["etcd-auth"]!;
    assert.deepEqual(etcdAuth.depends_on, {
      etcd: { condition: "service_healthy" },
    });
    const authScript = [...etcdAuth.entrypoint!, ...etcdAuth.command!].join(
      " ",
    );
    assert.match(authScript, /etcdctl auth enable/);
    assert.match(
      authScript,
      /grant-permission wsgw --prefix=true readwrite \/wsgw\//,
    );
    assert.doesNotMatch(
      authScript,
      /change-me-etcd/,
      "a password in the script",
    );
    assert.deepEqual(services.etcd!.healthcheck!.test.slice(-2), [
      "endpoint",
      "status",
    ]);
    // Redis auth: requirepass from the environment, not from the command
    // line; the healthcheck and the exporter log in.
    assert.match(
      redisScript(services.redis!.command!),
      /requirepass "\$REDISCLI_AUTH"/,
    );
    assert.doesNotMatch(
      services.redis!.command!.join(" "),
      /change-me/,
      "the Redis password is on the command line",
    );
    assert.match(services.redis!.healthcheck!.test.join(" "), /redis-cli ping/);
    assert.match(
      services.redis!.environment!.REDISCLI_AUTH!,
      /^change-me-redis/,
    );
    assert.match(
      services["redis-exporter"]!.environment!.REDIS_PASSWORD!,
      /^change-me-redis/,
    );
    for (const name of [...wsgw.slice(0, 3), "haproxy"]) {
      const nofile = services[name]!.ulimits?.nofile;
      assert.ok(nofile && nofile.soft >= 1_000_000, `${name} nofile`);
    }
    const redis = services.redis!.command!.join(" ");
    assert.match(redis, /--appendonly yes/);
    assert.match(redis, /--maxmemory \d+[kmg]b/);
    assert.match(redis, /--maxmemory-policy noeviction/);
    const compose = await Deno.readTextFile(`${ROOT}compose.yaml`);
    assert.doesNotMatch(
      compose,
      /(SECRET|API_KEYS|PASSWORD|AUTH): [^$]/,
      "a secret value written into compose.yaml",
    );

    // A missing secret stops compose with a message saying how to make one.
    const empty = await Deno.makeTempFile();
    try {
      const missing = await run("docker-compose", [
        "--env-file",
        empty,
        "-f",
        "compose.yaml",
        "config",
        "-q",
      ]);
      assert.notEqual(missing.code, 0);
      assert.match(missing.stderr, /deno task ctl secrets/);
    } finally {
      await Deno.remove(empty);
    }
  },
);

opsTest(
  "ops - compose.tls.yaml: haproxy takes the TLS frontend with a mounted certificate",
  ["docker-compose", "haproxy", "openssl"],
  async () => {
    const args = [
      "--env-file",
      "ops/compose.env.example",
      "-f",
      "compose.yaml",
      "-f",
      "compose.tls.yaml",
    ];
    const { code, stdout, stderr } = await run("docker-compose", [
      ...args,
      "config",
    ]);
    assert.equal(code, 0, stderr);
    const haproxy = (parseYaml(stdout) as {
      services: Record<string, { command: string[]; ports: unknown[] }>;
    }).services.haproxy!;
    assert.deepEqual(haproxy.command.filter((a) => a.endsWith(".cfg")), [
      "/usr/local/etc/haproxy/haproxy.cfg",
      "/usr/local/etc/haproxy/tls.cfg",
    ]);
    assert.match(JSON.stringify(haproxy.ports), /8443/);
    assert.match(JSON.stringify(haproxy.ports), /8080/);

    // Both files together, with a real certificate where compose mounts one.
    const dir = await Deno.makeTempDir();
    try {
      const { pem } = await makeThrowawayCert(dir);
      const tls = (await Deno.readTextFile(`${ROOT}ops/haproxy/tls.cfg`))
        .replace("/usr/local/etc/haproxy/tls/wsgw.pem", pem);
      await Deno.writeTextFile(`${dir}/tls.cfg`, tls);
      assertRan(
        await run("haproxy", ["-c", "-f", HAPROXY, "-f", `${dir}/tls.cfg`]),
        "haproxy -c with tls.cfg",
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
