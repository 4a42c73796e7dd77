/**
 * `deno task ctl` against a running cluster: in-process through `main()`
 * for most commands, and once as its own process to see the real exit
 * status and output.
 */
import assert from "node:assert/strict";
import { main } from "../../ops/ctl.ts";
import { writeStateFile } from "../../shared/cluster_state.ts";
import { freePort } from "../../ops/cluster/ports.ts";
import {
  alive,
  type Cluster,
  connect,
  ownersInEtcd,
  startTestCluster,
} from "../_support/cluster.ts";
import { waitFor } from "../_support/until.ts";
import { TestClient } from "../_support/ws_client.ts";
import type { WelcomeFrame } from "../../shared/protocol.ts";

type Run = { code: number; out: string; err: string };

/** Runs ctl in-process with `env` as its whole environment. */
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

/** A state file for `cluster` in its temp dir, as `deno task cluster` writes it. */
async function stateFileOf(cluster: Cluster): Promise<string> {
  const path = `${cluster.dir}/state.json`;
  await writeStateFile(path, cluster.state());
  return path;
}

Deno.test("ctl - token, nodes, user, users and push against a running cluster", async () => {
  await using cluster = await startTestCluster({ nodes: 2 });
  const env = { WSGW_STATE_FILE: await stateFileOf(cluster) };

  const token = await ctl(
    ["token", "gina", "--device", "phone", "--ttl", "10m"],
    env,
  );
  assert.equal(token.code, 0, token.err);
  const url = `${cluster.gateways[0]!.wsUrl}?token=${token.out.trim()}`;
  const client = await TestClient.open(url);
  try {
    const welcome = await client.next((f): f is WelcomeFrame =>
      f.type === "welcome"
    );
    assert.equal(welcome.userId, "gina");

    const nodes = await ctl(["nodes", "--json"], env);
    assert.equal(nodes.code, 0, nodes.err);
    const list = JSON.parse(nodes.out);
    assert.deepEqual(
      list.map((n: { nodeId: string; connections: number }) => [
        n.nodeId,
        n.connections,
      ]),
      [["gw-1", 1], ["gw-2", 0]],
    );
    const table = await ctl(["nodes"], env);
    assert.match(table.out, /^NODE +URL +CONNECTIONS +USERS +DRAINING/);
    assert.match(table.out, /\ngw-1 +http:\/\/127\.0\.0\.1:\d+ +1 +1 +no /);

    const user = await ctl(["user", "gina", "--json"], env);
    assert.equal(user.code, 0, user.err);
    const shown = JSON.parse(user.out);
    assert.equal(shown.online, true);
    assert.deepEqual(shown.nodes.map((n: { nodeId: string }) => n.nodeId), [
      "gw-1",
    ]);
    assert.deepEqual(
      shown.devices.map((d: { nodeId: string; device: string }) => [
        d.nodeId,
        d.device,
      ]),
      [["gw-1", "phone"]],
    );
    assert.match((await ctl(["user", "gina"], env)).out, /registered on gw-1/);

    const users = await ctl(["users", "--node", "gw-1", "--json"], env);
    assert.deepEqual(JSON.parse(users.out), {
      node: "gw-1",
      users: ["gina"],
      truncated: false,
    });
    const none = await ctl(["users", "--node", "gw-2", "--json"], env);
    assert.deepEqual(JSON.parse(none.out).users, []);

    const push = await ctl(["push", "gina", '{"text":"hi"}', "--json"], env);
    assert.equal(push.code, 0, push.err);
    assert.deepEqual(JSON.parse(push.out).results, [
      { user: "gina", seq: 1, devices: 1 },
    ]);
    const [message] = await client.waitMessages(1);
    assert.deepEqual(message!.data, { text: "hi" });
  } finally {
    await client.close();
  }
});

Deno.test("ctl - clear errors: unknown command exits 2, unreachable router or etcd exits 1 naming it, a partial answer exits 3", async () => {
  await using cluster = await startTestCluster({ nodes: 1 });
  const env = { WSGW_STATE_FILE: await stateFileOf(cluster) };

  const unknown = await ctl(["frobnicate"], env);
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /unknown command "frobnicate"/);
  assert.match(unknown.err, /Usage: deno task ctl/);
  assert.equal((await ctl(["nodes", "--limit", "3"], env)).code, 2);
  assert.equal((await ctl(["push", "u", "not json"], env)).code, 2);

  const deadRouter = `http://127.0.0.1:${freePort()}`;
  const push = await ctl(["push", "u", "1", "--router", deadRouter], env);
  assert.equal(push.code, 1);
  assert.equal(push.err.trim().split("\n").length, 1, push.err);
  assert.match(push.err, new RegExp(`router at ${deadRouter} is unreachable`));
  assert.match(push.err, /WSGW_ROUTER/);

  const deadEtcd = `http://127.0.0.1:${freePort()}`;
  const users = await ctl(["users", "--etcd", deadEtcd], env);
  assert.equal(users.code, 1);
  assert.match(users.err, new RegExp(`etcd at ${deadEtcd} is unreachable`));

  // nodes falls back to etcd when the router is down, says so, and exits 3
  // (a partial answer: a script must not take it for the full one).
  const fallback = await ctl(["nodes", "--router", deadRouter, "--json"], env);
  assert.equal(fallback.code, 3);
  assert.match(fallback.err, /showing the node records in etcd/);
  assert.deepEqual(
    JSON.parse(fallback.out).map((
      n: { nodeId: string; connections: null },
    ) => [n.nodeId, n.connections]),
    [["gw-1", null]],
  );

  // user with the router down: the etcd half, a note, exit 3.
  const half = await ctl(["user", "nobody", "--router", deadRouter], env);
  assert.equal(half.code, 3, half.err);
  assert.match(half.out, /user "nobody" is on no node/);
  assert.match(half.err, /note: .*router at .* is unreachable/);
  assert.match(half.err, /partial answer/);

  const noConfig = await ctl(["nodes"], {});
  assert.equal(noConfig.code, 1);
  assert.match(noConfig.err, /no router URL configured/);

  const badKey = await ctl(["push", "u", "1", "--api-key", "wrong"], env);
  assert.equal(badKey.code, 1);
  assert.match(badKey.err, /403.*check WSGW_API_KEY/);
});

Deno.test("ctl - runs as its own process: nodes --json from a state file", async () => {
  await using cluster = await startTestCluster({ nodes: 1 });
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "ops/ctl.ts", "nodes", "--json"],
    cwd: new URL("../..", import.meta.url).pathname,
    env: { WSGW_STATE_FILE: await stateFileOf(cluster) },
    stdin: "null",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, stderr);
  const nodes = JSON.parse(new TextDecoder().decode(output.stdout));
  assert.deepEqual(nodes.map((n: { nodeId: string }) => n.nodeId), ["gw-1"]);

  const unknown = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "ops/ctl.ts", "bogus"],
    cwd: new URL("../..", import.meta.url).pathname,
    stdin: "null",
  }).output();
  assert.equal(unknown.code, 2);
});

Deno.test("ctl - drain: through the internal API the node closes its clients with 1012 and leaves; from a state file without the secret by SIGTERM", async () => {
  await using cluster = await startTestCluster({ nodes: 2 });
  const env = { WSGW_STATE_FILE: await stateFileOf(cluster) };
  const { client } = await connect(cluster, 1, "hank");
  try {
    const drained = await ctl(["drain", "gw-2"], {
      ...env,
      WSGW_INTERNAL_SECRET: cluster.internalSecret,
    });
    assert.equal(drained.code, 0, drained.err);
    assert.match(drained.out, /gw-2: drained and left the registry/);
    assert.equal((await client.closed).code, 1012);
    assert.deepEqual(await ownersInEtcd(cluster, "hank"), []);
    // The process stays up, unregistered and not ready, until stopped.
    assert.equal(cluster.gateways[1]!.running, true);
    const ready = await fetch(`${cluster.gateways[1]!.url}/readyz`);
    await ready.body?.cancel();
    assert.equal(ready.status, 503);

    const wrong = await ctl(["drain", "gw-1"], {
      ...env,
      WSGW_INTERNAL_SECRET: "wrong",
    });
    assert.equal(wrong.code, 1);
    assert.match(wrong.err, /401.*WSGW_INTERNAL_SECRET/);

    // A state file without the internal secret (written by hand): SIGTERM
    // to the pid in it. The launcher's own state files carry the secret.
    const pid = cluster.gateways[0]!.pid!;
    const bare = `${cluster.dir}/bare-state.json`;
    await writeStateFile(bare, {
      ...cluster.state(),
      internalSecret: undefined,
    });
    const bySignal = await ctl(["drain", "gw-1", "--json"], {
      WSGW_STATE_FILE: bare,
    });
    assert.equal(bySignal.code, 0, bySignal.err);
    assert.equal(JSON.parse(bySignal.out).how, `SIGTERM to pid ${pid}`);
    await waitFor(() => !alive(pid), { what: `gw-1 (pid ${pid}) to exit` });

    const gone = await ctl(["drain", "gw-1"], env);
    assert.equal(gone.code, 1);
    assert.match(gone.err, /no node gw-1 in etcd/);
  } finally {
    await client.close();
  }
});
