/**
 * Each role holds only its own secrets, on real processes: the local
 * cluster gives gateways no push-API keys and routers no JWT secret, and
 * both start without warnings; a short or placeholder secret stops a
 * process at start with a message that says how to make a real one and
 * does not show the value.
 */
import assert from "node:assert/strict";
import { api, connect, startTestCluster } from "../_support/cluster.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

function environ(pid: number): Record<string, string> {
  const raw = Deno.readTextFileSync(`/proc/${pid}/environ`);
  return Object.fromEntries(
    raw.split("\0").filter((e) => e.includes("=")).map((e) => {
      const i = e.indexOf("=");
      return [e.slice(0, i), e.slice(i + 1)];
    }),
  );
}

Deno.test("role secrets - gateways run without API keys, routers without the JWT secret, neither warns", async () => {
  const lines: string[] = [];
  await using cluster = await startTestCluster({
    nodes: 1,
    onLine: (_name, line) => lines.push(line),
  });
  const gateway = environ(cluster.gateways[0]!.pid!);
  const router = environ(cluster.routers[0]!.pid!);
  assert.equal(gateway.WSGW_API_KEYS, undefined);
  assert.equal(router.WSGW_JWT_SECRET, undefined);
  assert.ok(gateway.WSGW_JWT_SECRET && router.WSGW_API_KEYS);
  const { client } = await connect(cluster, 0, "alice");
  const pushed = await api(cluster, "POST", "/v1/push", {
    users: ["alice"],
    data: 1,
  });
  assert.equal(pushed.status, 200);
  await client.next((f) => f.type === "message");
  await client.close();
  assert.deepEqual(
    lines.filter((l) => l.includes("configuration warning")),
    [],
  );
});

Deno.test("role secrets - a short or placeholder secret stops a gateway and a router at start, saying how to make one", async () => {
  const base = {
    WSGW_ETCD: "http://127.0.0.1:1",
    WSGW_REDIS: "redis://127.0.0.1:1",
    WSGW_INTERNAL_SECRET: "i".repeat(40),
    PATH: Deno.env.get("PATH") ?? "",
    HOME: Deno.env.get("HOME") ?? "",
    NO_COLOR: "1",
  };
  for (
    const [main, env, variable, value] of [
      [
        "gateway/main.ts",
        { WSGW_JWT_SECRET: "tooShortSecret1" },
        "WSGW_JWT_SECRET",
        "tooShortSecret1",
      ],
      [
        "router/main.ts",
        { WSGW_API_KEYS: "change-me-push-key:push" },
        "WSGW_API_KEYS",
        "change-me-push-key",
      ],
      [
        "router/main.ts",
        {
          WSGW_API_KEYS: "k".repeat(30),
          WSGW_INTERNAL_SECRET: "hunter2hunter2",
        },
        "WSGW_INTERNAL_SECRET",
        "hunter2hunter2",
      ],
    ] as const
  ) {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `${ROOT}${main}`],
      env: { ...base, ...env },
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(output.stderr) +
      new TextDecoder().decode(output.stdout);
    assert.equal(output.code, 2, text);
    assert.match(text, new RegExp(`"variable":"${variable}"`), text);
    assert.match(text, /openssl rand -hex 32/);
    assert.ok(!text.includes(value), text);
  }
});
