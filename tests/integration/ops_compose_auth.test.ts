/**
 * compose.yaml's backend logins, run for real outside Docker: with an env
 * file as `ctl secrets` writes it, each gateway and router loads its
 * compose environment without an error or a warning; the etcd-auth script
 * turns auth on against a real etcd (once, a user limited to /wsgw/) and the
 * Redis script starts redis-server with requirepass from the environment,
 * never on its command line; the logins the configs hold then work.
 */
import assert from "node:assert/strict";
import { parse as parseYaml } from "yaml";
import { secretsEnvFile } from "../../ops/ctl/secrets_command.ts";
import { loadConfig } from "../../shared/config.ts";
import { RedisHistory } from "../../shared/history/redis.ts";
import { createLogger } from "../../shared/log.ts";
import { startEtcd } from "../../ops/servers/etcd_server.ts";
import { opsTest, run } from "../_support/ops_tools.ts";
import { freePort, waitFor } from "../_support/until.ts";

type Service = {
  environment?: Record<string, string | null>;
  entrypoint?: string[];
  command?: string[];
  healthcheck?: { test: string[] };
};

/** `docker-compose config` of compose.yaml with a fresh `ctl secrets` file. */
async function composeServices(): Promise<Record<string, Service>> {
  const envFile = await Deno.makeTempFile({ suffix: ".env" });
  try {
    await Deno.writeTextFile(envFile, secretsEnvFile());
    const ran = await run("docker-compose", [
      "--env-file",
      envFile,
      "-f",
      "compose.yaml",
      "config",
    ]);
    assert.equal(ran.code, 0, ran.stderr);
    return (parseYaml(ran.stdout) as { services: Record<string, Service> })
      .services;
  } finally {
    await Deno.remove(envFile);
  }
}

/** A service's environment as its process sees it (null → unset). */
function envOf(service: Service): Record<string, string> {
  return Object.fromEntries(
    Object.entries(service.environment ?? {}).filter(([, v]) => v !== null),
  ) as Record<string, string>;
}

/** The script of a `sh -c` service, with compose's "$$" back to "$". */
function script(service: Service): string {
  return service.command!.at(-1)!.replaceAll("$$", "$");
}

const PATH = Deno.env.get("PATH") ?? "/usr/bin:/bin";

opsTest(
  "ops - compose with ctl's secrets: each role loads its environment without a warning",
  ["docker-compose"],
  async () => {
    const services = await composeServices();
    for (const name of ["gateway1", "gateway2", "gateway3", "router1"]) {
      const mode = name.startsWith("gateway") ? "gateway" : "router";
      const { config, warnings } = loadConfig(envOf(services[name]!), mode);
      assert.deepEqual(warnings, [], `${name} warns`);
      assert.equal(config.etcdUsername, "wsgw");
      assert.equal(
        config.etcdPassword,
        services["etcd-auth"]!.environment!.WSGW_ETCD_PASSWORD,
        `${name} logs in to etcd as etcd-auth made the user`,
      );
      assert.equal(
        decodeURIComponent(new URL(config.redis!).password),
        services.redis!.environment!.REDISCLI_AUTH,
        `${name} logs in to Redis with its requirepass`,
      );
      if (mode === "router") {
        assert.deepEqual(config.apiKeys.map((k) => k.scope), [
          "push",
          "admin",
        ]);
      } else {
        assert.equal(config.apiKeys.length, 0);
        assert.ok(config.jwtSecret);
      }
    }
  },
);

opsTest(
  "ops - compose's etcd-auth turns etcd auth on, once, for a user limited to /wsgw/",
  ["docker-compose", "etcd", "etcdctl"],
  async () => {
    const services = await composeServices();
    await using etcd = await startEtcd();
    const service = services["etcd-auth"]!;
    assert.deepEqual(service.entrypoint, ["/bin/sh", "-euc"]);
    const env = {
      ...envOf(service),
      ETCDCTL_ENDPOINTS: etcd.endpoint,
      PATH,
    };
    // The example file's placeholders would stay etcd's passwords: refused.
    const placeholder = await run("sh", ["-euc", script(service)], {
      env: { ...env, WSGW_ETCD_ROOT_PASSWORD: "change-me-etcd-root-password" },
    });
    assert.equal(placeholder.code, 1);
    assert.match(
      placeholder.stderr,
      /placeholder: make real ones with deno task ctl secrets/,
    );
    const first = await run("sh", ["-euc", script(service)], { env });
    assert.equal(first.code, 0, first.stderr);
    const again = await run("sh", ["-euc", script(service)], { env });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /already on/);

    const etcdctl = (...args: string[]) =>
      run("etcdctl", [`--endpoints=${etcd.endpoint}`, ...args], {
        env: { ETCDCTL_API: "3", PATH },
      });
    const anonymous = await etcdctl("get", "/wsgw/x");
    assert.notEqual(anonymous.code, 0, "etcd answers without a login");
    // etcd's healthcheck in compose.yaml works with auth on.
    assert.equal((await etcdctl("endpoint", "status")).code, 0);

    const { config } = loadConfig(
      { ...envOf(services.router1!), WSGW_ETCD: etcd.endpoint },
      "router",
    );
    const user = `${config.etcdUsername}:${config.etcdPassword}`;
    const mine = await etcdctl("--user", user, "put", "/wsgw/x", "1");
    assert.equal(mine.code, 0, mine.stderr);
    const other = await etcdctl("--user", user, "put", "/other", "1");
    assert.match(other.stderr, /permission denied/);
    const root = `root:${service.environment!.WSGW_ETCD_ROOT_PASSWORD}`;
    assert.equal((await etcdctl("--user", root, "get", "/other")).code, 0);
  },
);

opsTest(
  "ops - compose's Redis takes requirepass from the environment, not its command line",
  ["docker-compose", "redis-server", "redis-cli"],
  async () => {
    const services = await composeServices();
    const service = services.redis!;
    const password = service.environment!.REDISCLI_AUTH!;
    const dir = await Deno.makeTempDir({ prefix: "wsgw-compose-redis-" });
    const port = freePort();
    // The image's entrypoint, minus the switch to the redis user: runs
    // redis-server with the script's arguments, on a test port and dir.
    await Deno.writeTextFile(
      `${dir}/docker-entrypoint.sh`,
      `#!/bin/sh\nexec "$@" --port ${port} --bind 127.0.0.1 --dir ${dir}\n`,
      { mode: 0o755 },
    );
    const child = new Deno.Command("sh", {
      args: ["-euc", script(service)],
      env: { REDISCLI_AUTH: password, PATH: `${dir}:${PATH}` },
      clearEnv: true,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      // The healthcheck, as compose runs it (REDISCLI_AUTH in the env).
      const healthcheck = service.healthcheck!.test;
      assert.equal(healthcheck[0], "CMD-SHELL");
      const check = (env: Record<string, string>) =>
        run("sh", [
          "-c",
          healthcheck[1]!.replace("redis-cli", `redis-cli -p ${port}`),
        ], { env: { ...env, PATH } });
      await waitFor(
        async () => (await check({ REDISCLI_AUTH: password })).code === 0,
        { timeout: 5000, what: "the compose Redis healthcheck to pass" },
      );
      const anonymous = await check({ REDISCLI_AUTH: "" });
      assert.notEqual(anonymous.code, 0, "Redis answers PING without a login");

      // exec all the way down: the shell's pid is redis-server's, and its
      // command line does not hold the password.
      const cmdline = await Deno.readTextFile(`/proc/${child.pid}/cmdline`);
      assert.match(cmdline, /redis-server/);
      assert.ok(!cmdline.includes(password), "password on the command line");

      const { config } = loadConfig({
        ...envOf(services.gateway1!),
        WSGW_REDIS: `redis://127.0.0.1:${port}`,
      }, "gateway");
      // wsgw's own client, with the URL the config joined.
      await using history = await RedisHistory.connect({
        url: config.redis!,
        size: 10,
        ttl: 60,
        log: createLogger({ level: "error", write: () => {} }),
        connectTimeout: 2000,
      });
      const [stored] = await history.append(["alice"], {
        id: "m1",
        ts: 1,
        dataJson: "1",
      });
      assert.equal(stored?.seq, 1);
    } finally {
      child.kill("SIGTERM");
      await child.status;
      await Deno.remove(dir, { recursive: true });
    }
  },
);
