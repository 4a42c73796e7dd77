/**
 * Drain behind haproxy (`deno task cluster --lb`), as an operator does it:
 * `ctl --state-file F drain gw-2` takes the internal-API path, `/readyz` of
 * the node answers 503 while its clients are still open (WSGW_DRAIN_NOTICE_MS),
 * haproxy takes it out, and every drained client that reconnects at once
 * through haproxy lands on another node at its first attempt. Prints the
 * time until the drained clients are back (docs/RELIABILITY.md quotes it).
 *
 * Run with `WSGW_DRAIN_NOTICE_MS=0` in the environment to see the behaviour
 * without the notice window: reconnects reach the draining node and fail.
 */
// deno-lint-ignore-file no-console
import assert from "node:assert/strict";
import { main as ctl } from "../../ops/ctl.ts";
import { writeStateFile } from "../../shared/cluster_state.ts";
import { onPath } from "../../ops/cluster/services.ts";
import { startTestCluster } from "../_support/cluster.ts";
import { waitFor } from "../_support/until.ts";
import { TestClient } from "../_support/ws_client.ts";

/** Reconnect attempts one client may make before the test gives up. */
const MAX_ATTEMPTS = 200;

type Mover = {
  closedAt?: number;
  code?: number;
  backAt?: number;
  node?: string;
  failed: number;
  client?: TestClient;
};

Deno.test({
  name:
    "drain behind haproxy - ctl drain via the state file: 503 before the first close, every client back on another node at its first attempt",
  ignore: !await onPath("haproxy"),
  async fn() {
    const exits: string[] = [];
    await using cluster = await startTestCluster({
      nodes: 3,
      lb: true,
      onExit: (name) => exits.push(name),
    });
    const stateFile = `${cluster.dir}/state.json`;
    await writeStateFile(stateFile, cluster.state());
    const ws = `${cluster.lb!.url.replace("http", "ws")}/ws?token=`;
    const tokens = await Promise.all(
      Array.from({ length: 30 }, (_, i) => cluster.token(`mover${i}`)),
    );
    // leastconn spreads 30 clients over the three nodes.
    const first = await Promise.all(
      tokens.map((token) => TestClient.welcomed(ws + token)),
    );
    const onGw2 = first.filter((c) => c.welcome.nodeId === "gw-2");
    assert.ok(onGw2.length >= 5, `only ${onGw2.length} clients on gw-2`);

    let began = 0;
    const movers: Mover[] = onGw2.map(({ client, welcome }) => {
      const token = tokens[Number(welcome.userId.slice("mover".length))]!;
      const mover: Mover = { failed: 0 };
      client.closed.then(async ({ code }) => {
        mover.closedAt = performance.now();
        mover.code = code;
        // A client that reconnects at once: the balancer alone decides.
        while (mover.failed < MAX_ATTEMPTS) {
          try {
            const next = await TestClient.welcomed(ws + token);
            mover.backAt = performance.now();
            mover.node = next.welcome.nodeId;
            mover.client = next.client;
            return;
          } catch {
            mover.failed++;
          }
        }
      });
      return mover;
    });

    try {
      let out = "";
      let err = "";
      const io = {
        out: (t: string) => out += t,
        err: (t: string) => err += t,
        env: {},
      };
      began = performance.now();
      const code = await ctl(
        ["--state-file", stateFile, "drain", "gw-2", "--no-wait", "--json"],
        io,
      );
      assert.equal(code, 0, err);
      assert.equal(JSON.parse(out).how, "internal API");

      // Not ready while every client is still open: the balancer's window.
      await waitFor(async () => {
        const r = await fetch(`${cluster.gateways[1]!.url}/readyz`);
        await r.body?.cancel();
        return r.status === 503;
      }, { what: "gw-2 /readyz 503" });
      const closedEarly = movers.filter((m) => m.closedAt !== undefined);
      assert.equal(closedEarly.length, 0, "clients closed before the 503");

      await waitFor(() => movers.every((m) => m.backAt !== undefined), {
        timeout: 30_000,
        what: "every drained client back through haproxy",
      });
      assert.deepEqual(new Set(movers.map((m) => m.code)), new Set([1012]));
      assert.ok(movers.every((m) => m.node !== "gw-2"), "back on gw-2");

      const firstClose = Math.min(...movers.map((m) => m.closedAt!));
      const gaps = movers.map((m) => m.backAt! - m.closedAt!).sort((a, b) =>
        a - b
      );
      const allBack = Math.max(...movers.map((m) => m.backAt!)) - began;
      const failed = movers.reduce((n, m) => n + m.failed, 0);
      console.log(
        `drain behind haproxy: ${movers.length} clients of gw-2; first close ${
          (firstClose - began).toFixed(0)
        } ms after ctl drain; close -> welcome elsewhere min/median/max ${
          gaps[0]!.toFixed(0)
        }/${gaps[Math.floor(gaps.length / 2)]!.toFixed(0)}/${
          gaps.at(-1)!.toFixed(0)
        } ms; all back ${
          allBack.toFixed(0)
        } ms after ctl drain; failed reconnects ${failed}`,
      );
      assert.equal(failed, 0, "reconnects reached the draining node");

      // Drained through the API the process stays up, unready, until stopped.
      assert.deepEqual(exits, []);
      assert.ok(cluster.gateways[1]!.running);
    } finally {
      await Promise.all([
        ...first.map(({ client }) => client.close()),
        ...movers.map((m) => m.client?.close()),
      ]);
    }
  },
});
