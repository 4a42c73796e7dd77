/**
 * `deno task cluster` as a process: its command line, the state file it
 * writes, haproxy in front, a child dying under it, and SIGTERM stopping
 * every child it started.
 */
import assert from "node:assert/strict";
import { stateProblem } from "../../ops/cluster.ts";
import { onPath } from "../../ops/cluster/services.ts";
import { alive, childrenOf } from "../_support/cluster.ts";
import { Launcher, stateFileWritten } from "../_support/launcher.ts";
import { waitFor } from "../_support/until.ts";
import { TestClient } from "../_support/ws_client.ts";
import { signToken } from "../../shared/token.ts";
import type { WelcomeFrame } from "../../shared/protocol.ts";

async function run(args: string[]): Promise<{ code: number; out: string }> {
  await using launcher = new Launcher(args);
  const { code } = await launcher.status();
  return { code, out: launcher.output };
}

Deno.test("cluster CLI - --help prints usage; a bad flag exits 2", async () => {
  const help = await run(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.out, /Usage: deno task cluster/);
  assert.match(help.out, /--state-file F/);
  const bad = await run(["--nodes", "zero"]);
  assert.equal(bad.code, 2);
  assert.match(bad.out, /--nodes must be an integer/);
  const unknown = await run(["--frobnicate"]);
  assert.equal(unknown.code, 2);
});

Deno.test("cluster CLI - without haproxy on PATH, --lb fails with a clear message and starts nothing", async () => {
  // A PATH holding etcd and redis-server only.
  const bin = await Deno.makeTempDir({ prefix: "wsgw-path-" });
  try {
    for (const name of ["etcd", "redis-server"]) {
      const which = await new Deno.Command("which", { args: [name] }).output();
      await Deno.symlink(
        new TextDecoder().decode(which.stdout).trim(),
        `${bin}/${name}`,
      );
    }
    await using launcher = new Launcher(["--lb"], { PATH: bin });
    const { code } = await launcher.status();
    assert.equal(code, 1);
    assert.match(launcher.output, /haproxy is not on PATH: install haproxy/);
    assert.doesNotMatch(launcher.output, /starting etcd/);
  } finally {
    await Deno.remove(bin, { recursive: true });
  }
});

Deno.test({
  name:
    "cluster CLI - state file, haproxy in front, a dead child logged, SIGTERM stops every child",
  ignore: !await onPath("haproxy"),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "wsgw-launcher-test-" });
    const stateFile = `${dir}/state.json`;
    try {
      await using launcher = new Launcher([
        "--nodes",
        "2",
        "--lb",
        "--lease-ttl",
        "2",
        "--state-file",
        stateFile,
      ]);
      await stateFileWritten(stateFile);
      const text = await Deno.readTextFile(stateFile);
      const state = JSON.parse(text);
      assert.deepEqual(Object.keys(state).sort(), [
        "apiKey",
        "control",
        "etcd",
        "gateways",
        "internalSecret",
        "jwtSecret",
        "lb",
        "prefix",
        "redis",
        "router",
        "routers",
      ]);
      assert.equal(stateProblem(state), undefined);
      // Secrets inside: the owner's alone.
      assert.equal((await Deno.stat(stateFile)).mode! & 0o777, 0o600);
      assert.equal(state.prefix, "/wsgw");
      assert.ok(state.internalSecret.length >= 32);
      for (const g of state.gateways) {
        assert.match(g.internalUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
      }
      assert.deepEqual(state.routers, [state.router]);
      assert.match(state.etcd, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.match(state.redis, /^redis:\/\/127\.0\.0\.1:\d+$/);
      assert.match(state.lb, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.deepEqual(
        state.gateways.map((g: { nodeId: string }) => g.nodeId),
        ["gw-1", "gw-2"],
      );
      for (const g of state.gateways) assert.ok(alive(g.pid), g.nodeId);
      assert.match(launcher.output, /wsgw cluster ready in/);
      assert.match(launcher.output, new RegExp(state.apiKey));
      assert.match(launcher.output, /deno task ctl token alice/);
      assert.match(launcher.output, /\[gw-1\] +\S+ INFO +gateway listening/);
      const tempDir = /starting etcd and redis-server in (\S+)/.exec(
        launcher.output,
      )![1]!;
      // etcd, redis-server, 2 gateways, 1 router, haproxy.
      const children = childrenOf(launcher.child.pid);
      assert.equal(children.length, 6, launcher.output);

      // Through haproxy: least connections puts two clients on two nodes.
      const ws = `${state.lb.replace("http", "ws")}/ws?token=`;
      const token = await signToken(state.jwtSecret, { sub: "ivy" });
      const clients = [
        await TestClient.open(ws + token),
        await TestClient.open(ws + token),
      ];
      try {
        const welcomes = await Promise.all(
          clients.map((c) =>
            c.next((f): f is WelcomeFrame => f.type === "welcome")
          ),
        );
        assert.deepEqual(welcomes.map((w) => w.nodeId).sort(), [
          "gw-1",
          "gw-2",
        ]);
        const push = await fetch(`${state.router}/v1/push`, {
          method: "POST",
          headers: {
            authorization: `Bearer ${state.apiKey}`,
            "content-type": "application/json",
          },
          body: JSON.stringify({ users: ["ivy"], data: "via lb" }),
        });
        assert.equal((await push.json()).results[0].devices, 2);
        for (const c of clients) await c.waitMessages(1);
      } finally {
        await Promise.all(clients.map((c) => c.close()));
      }

      // A gateway killed behind the launcher's back: loud, the rest run on.
      Deno.kill(state.gateways[1].pid, "SIGKILL");
      await waitFor(() => /gw-2 DIED UNEXPECTEDLY/.test(launcher.output), {
        what: "the launcher to report gw-2's death",
      });
      assert.ok(alive(state.gateways[0].pid));
      // One drained by SIGTERM from outside exits 0: a planned exit.
      Deno.kill(state.gateways[0].pid, "SIGTERM");
      await waitFor(
        () => /gw-1 exited cleanly \(exit code 0\)/.test(launcher.output),
        {
          what: "the launcher to report gw-1's clean exit",
        },
      );
      assert.equal(launcher.output.match(/UNEXPECTEDLY/g)?.length, 1);

      launcher.child.kill("SIGTERM");
      const status = await launcher.status();
      assert.equal(status.code, 0, launcher.output);
      assert.match(launcher.output, /\[gw-1\] .*drain finished/);
      for (const pid of children) {
        assert.equal(alive(pid), false, `child ${pid} outlived the launcher`);
      }
      await assert.rejects(Deno.stat(stateFile), Deno.errors.NotFound);
      await assert.rejects(Deno.stat(tempDir), Deno.errors.NotFound);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
