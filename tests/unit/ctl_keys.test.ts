/**
 * ctl's API keys and secrets, against a recording stand-in router (no
 * cluster): a scoped key is sent without its suffix, each command picks a key
 * whose scope suffices or says which scope is missing, errors name the flag or
 * variable to set, and `ctl secrets` writes a fresh private env file.
 */
import assert from "node:assert/strict";
import { main } from "../../ops/ctl.ts";
import { loadConfig } from "../../shared/config.ts";

type Run = { code: number; out: string; err: string };

async function ctl(
  args: string[],
  env: Record<string, string>,
): Promise<Run> {
  let out = "";
  let err = "";
  const code = await main(args, {
    out: (text) => out += text,
    err: (text) => err += text,
    env,
  });
  return { code, out, err };
}

/** A router that answers every call and records the bearer it got per path. */
async function withRouter(
  fn: (url: string, seen: Map<string, string>) => Promise<void>,
): Promise<void> {
  const seen = new Map<string, string>();
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    (request) => {
      const path = new URL(request.url).pathname;
      seen.set(path, request.headers.get("authorization") ?? "");
      return Response.json(path === "/v1/nodes" ? [] : { delivered: 0 });
    },
  );
  try {
    await fn(`http://127.0.0.1:${server.addr.port}`, seen);
  } finally {
    await server.shutdown();
  }
}

Deno.test("ctl - a scoped key is sent without its suffix, the right one per command", async () => {
  await withRouter(async (router, seen) => {
    const env = {
      WSGW_ROUTER: router,
      WSGW_API_KEYS: "the-push-key:push, the-admin-key:admin",
    };
    const nodes = await ctl(["nodes", "--json"], env);
    assert.equal(nodes.code, 0, nodes.err);
    assert.equal(seen.get("/v1/nodes"), "Bearer the-admin-key");
    const push = await ctl(["push", "alice", '"hi"', "--json"], env);
    assert.equal(push.code, 0, push.err);
    assert.equal(seen.get("/v1/push"), "Bearer the-push-key");

    // A bare key is admin, as the routers read it; --api-key outranks env.
    const bare = await ctl(["nodes", "--api-key", "plain-key"], env);
    assert.equal(bare.code, 0, bare.err);
    assert.equal(seen.get("/v1/nodes"), "Bearer plain-key");
  });
});

Deno.test("ctl - an admin command with only a push key names the missing scope", async () => {
  await withRouter(async (router, seen) => {
    const run = await ctl(["nodes"], {
      WSGW_ROUTER: router,
      WSGW_API_KEYS: "only-push:push",
    });
    assert.equal(run.code, 1);
    assert.equal(seen.size, 0, "a key that cannot work was sent");
    assert.match(run.err, /needs an API key with scope admin/);
    assert.match(run.err, /keys of WSGW_API_KEYS have scope push/);
    assert.match(run.err, /--api-key/);
    assert.ok(!run.err.includes("only-push"), "the key itself was printed");
  });
});

Deno.test("ctl - errors name the flag or variable to set", async () => {
  const noRouter = await ctl(["push", "alice", '"hi"'], {
    WSGW_API_KEY: "k",
  });
  assert.equal(noRouter.code, 1);
  assert.match(noRouter.err, /--router URL or set WSGW_ROUTER/);

  const noKey = await ctl(["push", "alice", '"hi"'], {
    WSGW_ROUTER: "http://127.0.0.1:9",
  });
  assert.equal(noKey.code, 1);
  assert.match(noKey.err, /--api-key KEY or set WSGW_API_KEY/);

  const badScope = await ctl(["push", "alice", '"hi"'], {
    WSGW_ROUTER: "http://127.0.0.1:9",
    WSGW_API_KEY: "k:root",
  });
  assert.equal(badScope.code, 2);
  assert.match(badScope.err, /WSGW_API_KEY: entry 1 has scope "root"/);

  const noSecret = await ctl(["token", "alice"], {});
  assert.match(noSecret.err, /--jwt-secret or set WSGW_JWT_SECRET/);

  const noEtcd = await ctl(["users", "--node", "gw-1"], {});
  assert.match(noEtcd.err, /--etcd URLS or set WSGW_ETCD/);
});

Deno.test("ctl - secrets writes a fresh private env file the config accepts", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/compose.env`;
    const first = await ctl(["secrets", "--out", path], {});
    assert.equal(first.code, 0, first.err);
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    const text = await Deno.readTextFile(path);
    const env = Object.fromEntries(
      text.split("\n").filter((l) => /^[A-Z_]+=/.test(l)).map((l) => {
        const at = l.indexOf("=");
        return [l.slice(0, at), l.slice(at + 1)];
      }),
    );
    const values = [
      ...env.WSGW_API_KEYS!.split(",").map((k) => k.replace(/:\w+$/, "")),
      env.WSGW_JWT_SECRET!,
      env.WSGW_INTERNAL_SECRET!,
      env.WSGW_ETCD_PASSWORD!,
      env.WSGW_ETCD_ROOT_PASSWORD!,
      env.WSGW_REDIS_PASSWORD!,
      env.GF_SECURITY_ADMIN_PASSWORD!,
    ];
    assert.equal(values.length, 8);
    for (const value of values) assert.match(value, /^[0-9a-f]{64}$/);
    assert.equal(new Set(values).size, 8, "a value repeats");
    assert.match(env.WSGW_API_KEYS!, /^[0-9a-f]+:push,[0-9a-f]+:admin$/);

    // The file is for compose (or Kubernetes' secret generator), which
    // gives each role only its variables (compose.yaml): so loaded, each
    // takes them as they are, without a warning.
    const shared = {
      WSGW_ETCD: "http://127.0.0.1:2379",
      WSGW_ETCD_USERNAME: "wsgw",
      WSGW_ETCD_PASSWORD: env.WSGW_ETCD_PASSWORD!,
      WSGW_REDIS: "redis://127.0.0.1:6379",
      WSGW_REDIS_PASSWORD: env.WSGW_REDIS_PASSWORD!,
      WSGW_INTERNAL_SECRET: env.WSGW_INTERNAL_SECRET!,
    };
    const router = loadConfig(
      { ...shared, WSGW_API_KEYS: env.WSGW_API_KEYS! },
      "router",
    );
    assert.deepEqual(router.config.apiKeys.map((k) => k.scope), [
      "push",
      "admin",
    ]);
    assert.deepEqual(router.warnings, []);
    const gateway = loadConfig(
      { ...shared, WSGW_JWT_SECRET: env.WSGW_JWT_SECRET! },
      "gateway",
    );
    assert.equal(gateway.config.jwtSecret, env.WSGW_JWT_SECRET);
    assert.deepEqual(gateway.warnings, []);
    // Given the whole file, a process still starts and names what it must
    // not hold.
    for (
      const [mode, extra] of [
        ["router", ["WSGW_ETCD_ROOT_PASSWORD", "WSGW_JWT_SECRET"]],
        ["gateway", ["WSGW_API_KEYS", "WSGW_ETCD_ROOT_PASSWORD"]],
      ] as const
    ) {
      const { warnings } = loadConfig({ ...shared, ...env }, mode);
      assert.deepEqual(
        warnings.map((w) => w.split(" ")[0]).sort(),
        extra,
        warnings.join("\n"),
      );
      for (const warning of warnings) {
        assert.match(
          warning,
          new RegExp(`is set but a ${mode} does not use it`),
        );
      }
    }

    // An existing file holds live secrets: kept unless --force.
    const again = await ctl(["secrets", "--out", path], {});
    assert.equal(again.code, 1);
    assert.match(again.err, /exists: pass --force/);
    assert.equal(await Deno.readTextFile(path), text);
    const forced = await ctl(["secrets", "--out", path, "--force"], {});
    assert.equal(forced.code, 0, forced.err);
    assert.notEqual(await Deno.readTextFile(path), text);

    const printed = await ctl(["secrets"], {});
    assert.match(printed.out, /^WSGW_JWT_SECRET=[0-9a-f]{64}$/m);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
