/**
 * `deno task cluster` as an operator's practice ground, driven by
 * `deno task ctl --state-file F cluster …` as its own process: a rolling
 * restart of a gateway with new environment (logged as planned, clients
 * moved with 1012, the state file updated), an API key rotated on the
 * router, etcd and Redis stopped and started (outage drills), bad requests
 * refused with the reason; and behind haproxy a gateway added and removed
 * with haproxy reloaded while the other clients stay connected.
 */
import assert from "node:assert/strict";
import { readStateFile } from "../../ops/cluster.ts";
import { alive, childrenOf } from "../_support/cluster.ts";
import { onPath } from "../../ops/cluster/services.ts";
import { Launcher, ROOT, stateFileWritten } from "../_support/launcher.ts";
import { waitFor } from "../_support/until.ts";
import { TestClient } from "../_support/ws_client.ts";
import { signToken } from "../../shared/token.ts";

type Run = { code: number; out: string; err: string };

/** `deno task ctl --state-file F …` as a process. */
async function ctl(stateFile: string, ...args: string[]): Promise<Run> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "ops/ctl.ts", "--state-file", stateFile, ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return {
    code: output.code,
    out: text(output.stdout),
    err: text(output.stderr),
  };
}

async function readyz(url: string): Promise<number> {
  const response = await fetch(`${url}/readyz`);
  await response.body?.cancel();
  return response.status;
}

Deno.test("cluster control - rolling restart with new env, key rotation, etcd and Redis drills, through ctl cluster", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wsgw-control-test-" });
  const stateFile = `${dir}/state.json`;
  try {
    await using launcher = new Launcher([
      "--nodes",
      "2",
      "--lease-ttl",
      "2",
      "--state-file",
      stateFile,
    ]);
    await stateFileWritten(stateFile);
    const state = await readStateFile(stateFile);
    assert.match(state.control!.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal((await Deno.stat(stateFile)).mode! & 0o777, 0o600);

    const list = await ctl(stateFile, "cluster");
    assert.equal(list.code, 0, list.err);
    assert.match(list.out, /^PROCESS +RUNNING +PID +URL/);
    for (const name of ["etcd", "redis", "gw-1", "gw-2", "router-1"]) {
      assert.match(list.out, new RegExp(`\\n${name} +yes +\\d+ `));
    }

    // Rolling restart of gw-1 with a new device limit: its client is drained
    // with 1012, the launcher logs a planned exit, the state file the new pid.
    const [gw1] = state.gateways;
    const token = await signToken(state.jwtSecret, { sub: "rita" });
    const ws = `${gw1!.url.replace("http", "ws")}/ws?token=`;
    const before = await TestClient.welcomed(ws + token);
    const restarted = await ctl(
      stateFile,
      "cluster",
      "restart",
      "gw-1",
      "--env",
      "WSGW_MAX_DEVICES=1",
      "--json",
    );
    assert.equal(restarted.code, 0, restarted.err);
    const shown = JSON.parse(restarted.out);
    assert.equal(shown.running, true);
    assert.deepEqual(shown.env, ["WSGW_MAX_DEVICES"]);
    assert.notEqual(shown.pid, gw1!.pid);
    assert.equal(alive(gw1!.pid), false);
    assert.equal((await before.client.closed).code, 1012);
    assert.match(
      launcher.output,
      /control: restart gw-1 with WSGW_MAX_DEVICES/,
    );
    assert.match(launcher.output, /gw-1 exited \(exit code 0\)/);
    assert.doesNotMatch(launcher.output, /UNEXPECTEDLY/);
    const after = await readStateFile(stateFile);
    assert.equal(after.gateways[0]!.pid, shown.pid);
    // The new environment is in force: a second device evicts the first.
    const one = await TestClient.welcomed(ws + token);
    const two = await TestClient.welcomed(ws + token);
    await waitFor(() => one.client.isClosed?.code === 4001, {
      what: "the first device closed with 4001 (WSGW_MAX_DEVICES=1)",
    });
    await two.client.close();

    // Rotation of the push-API key on the router: new and old both work.
    const newKey = "rotated-key-0123456789abcdef";
    const rotated = await ctl(
      stateFile,
      "cluster",
      "restart",
      "router-1",
      "--env",
      `WSGW_API_KEYS=${newKey},${state.apiKey}`,
    );
    assert.equal(rotated.code, 0, rotated.err);
    assert.match(rotated.out, /^router-1: running, pid \d+\n$/);
    for (const key of [newKey, state.apiKey]) {
      const push = await fetch(`${state.router}/v1/push`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${key}`,
          "content-type": "application/json",
        },
        body: JSON.stringify({ users: ["rita"], data: "rotated" }),
      });
      await push.body?.cancel();
      assert.equal(push.status, 200, key);
    }

    // etcd outage drill: every gateway unready, then ready again.
    assert.equal((await ctl(stateFile, "cluster", "stop", "etcd")).code, 0);
    await waitFor(async () => await readyz(gw1!.url) === 503, {
      what: "gw-1 unready without etcd",
    });
    assert.match(launcher.output, /etcd exited/);
    assert.equal((await ctl(stateFile, "cluster", "start", "etcd")).code, 0);
    await waitFor(async () => await readyz(gw1!.url) === 200, {
      timeout: 20_000,
      what: "gw-1 ready again",
    });

    // Redis outage drill.
    assert.equal((await ctl(stateFile, "cluster", "stop", "redis")).code, 0);
    await waitFor(async () => await readyz(state.router) === 503, {
      what: "router unready without Redis",
    });
    assert.equal((await ctl(stateFile, "cluster", "start", "redis")).code, 0);
    await waitFor(async () => await readyz(state.router) === 200, {
      timeout: 20_000,
      what: "router ready again",
    });

    // Refusals name the problem and exit 1 (launcher) or 2 (command line).
    const unknown = await ctl(stateFile, "cluster", "restart", "gw-9");
    assert.equal(unknown.code, 1);
    assert.match(unknown.err, /no process "gw-9"; there are etcd, redis/);
    const badEnv = await ctl(
      stateFile,
      "cluster",
      "start",
      "gw-2",
      "--env",
      "x",
    );
    assert.equal(badEnv.code, 2);
    assert.match(badEnv.err, /--env takes NAME=value/);
    const noState = await ctl(`${dir}/missing.json`, "cluster");
    assert.equal(noState.code, 1);
    assert.match(noState.err, /cannot read state file/);

    const children = childrenOf(launcher.child.pid);
    launcher.child.kill("SIGTERM");
    assert.equal((await launcher.status()).code, 0, launcher.output);
    assert.doesNotMatch(launcher.output, /UNEXPECTEDLY/);
    for (const pid of children) assert.equal(alive(pid), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

async function push(
  router: string,
  apiKey: string,
  users: string[],
  data: string,
): Promise<number> {
  const response = await fetch(`${router}/v1/push`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${apiKey}`,
      "content-type": "application/json",
    },
    body: JSON.stringify({ users, data }),
  });
  const body = await response.json();
  return body.results.reduce(
    (n: number, r: { devices: number }) => n + r.devices,
    0,
  );
}

Deno.test({
  name:
    "cluster control - add a gateway behind haproxy and remove it: haproxy reloaded, the other clients stay",
  ignore: !await onPath("haproxy"),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "wsgw-control-test-" });
    const stateFile = `${dir}/state.json`;
    try {
      await using launcher = new Launcher([
        "--nodes",
        "2",
        "--lb",
        "--state-file",
        stateFile,
      ]);
      await stateFileWritten(stateFile);
      const state = await readStateFile(stateFile);
      const ws = `${state.lb!.replace("http", "ws")}/ws?token=`;
      const users = ["s0", "s1", "s2", "s3"];
      const tokens = await Promise.all(
        users.map((sub) => signToken(state.jwtSecret, { sub })),
      );
      const stay = await Promise.all(
        tokens.map((t) => TestClient.welcomed(ws + t)),
      );

      const added = await ctl(stateFile, "cluster", "add-gateway", "--json");
      assert.equal(added.code, 0, added.err);
      assert.equal(JSON.parse(added.out).name, "gw-3");
      assert.match(launcher.output, /haproxy reloaded: gw-1,gw-2,gw-3/);
      const grown = await readStateFile(stateFile);
      assert.deepEqual(grown.gateways.map((g) => g.nodeId), [
        "gw-1",
        "gw-2",
        "gw-3",
      ]);
      // The new haproxy worker counts only its own connections: three new
      // clients go one to each node, the new one included.
      const lates = await Promise.all(
        ["l0", "l1", "l2"].map(async (sub) =>
          TestClient.welcomed(ws + await signToken(state.jwtSecret, { sub }))
        ),
      );
      const late = lates.find((c) => c.welcome.nodeId === "gw-3");
      assert.ok(late, lates.map((c) => c.welcome.nodeId).join(","));
      // The reload dropped nobody: every earlier client still gets pushes.
      // This push lands about when each client's first catch-up look (1 s
      // after its registration) reads history: a client that read it there
      // first still counts as reached.
      assert.equal(await push(state.router, state.apiKey, users, "a"), 4);
      for (const c of stay) await c.client.waitMessages(1);

      const removed = await ctl(stateFile, "cluster", "remove", "gw-3");
      assert.equal(removed.code, 0, removed.err);
      assert.equal(removed.out, "gw-3: drained, stopped and removed\n");
      assert.equal((await late.client.closed).code, 1012);
      assert.match(launcher.output, /haproxy reloaded: gw-1,gw-2\n/);
      assert.equal((await readStateFile(stateFile)).gateways.length, 2);
      const again = await TestClient.welcomed(
        ws + await signToken(state.jwtSecret, { sub: late.welcome.userId }),
      );
      assert.notEqual(again.welcome.nodeId, "gw-3");
      assert.equal(await push(state.router, state.apiKey, users, "b"), 4);
      for (const c of stay) {
        assert.equal(c.client.isClosed, undefined);
        await c.client.waitMessages(2);
      }
      assert.doesNotMatch(launcher.output, /UNEXPECTEDLY/);
      await Promise.all(
        [...stay, ...lates, again].map((c) => c.client.close()),
      );

      const children = childrenOf(launcher.child.pid);
      launcher.child.kill("SIGTERM");
      assert.equal((await launcher.status()).code, 0, launcher.output);
      for (const pid of children) assert.equal(alive(pid), false);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
