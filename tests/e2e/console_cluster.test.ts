/**
 * The operator console in Chromium against a real cluster (etcd,
 * redis-server, three gateway processes, a router): the nodes with their
 * etcd leases, etcd and Redis reachable, a user found with its node and key,
 * a push the client receives, a disconnect (4003), the live charts moving,
 * and a node drained through the router (the page never holds the internal
 * secret) whose connections fall to zero before it leaves.
 */
import assert from "node:assert/strict";
import { browserTest } from "../_support/browser.ts";
import { api, connect, startTestCluster } from "../_support/cluster.ts";
import type { TestClient } from "../_support/ws_client.ts";
import { ConsolePage } from "./_console_page.ts";

const SCREENSHOT = new URL(
  "../../docs/screenshots/console.png",
  import.meta.url,
);

browserTest(
  "console cluster - find a user and its node, push, disconnect, watch the rates, drain a node to zero connections",
  async (browser) => {
    await using cluster = await startTestCluster({
      nodes: 3,
      // Long enough for the page to see the drained node draining, full.
      env: { WSGW_DRAIN_NOTICE_MS: "2000" },
    });
    const { client: alice, welcome } = await connect(cluster, 0, "alice", {
      device: "phone",
    });
    const target = cluster.gateways[1]!.nodeId;
    const others: TestClient[] = [];
    for (const user of ["bob", "carol", "dave"]) {
      others.push((await connect(cluster, 1, user)).client);
    }
    const tab = await ConsolePage.open(browser, cluster.router, cluster.apiKey);
    await tab.until(async () => {
      const nodes = await tab.nodes();
      return nodes.length === 3 &&
        nodes.find((n) => n.node === target)?.connections === "3";
    }, "3 nodes, 3 connections on the one to drain");
    const nodes = await tab.nodes();
    assert.deepEqual(
      nodes.map((n) => n.node),
      cluster.gateways.map((g) => g.nodeId).sort(),
    );
    for (const node of nodes) {
      // The etcd lease of each node (a number), kept alive.
      assert.match(node.cells[7]!, /^\d+/, node.node);
    }
    await tab.until(
      async () =>
        /^reachable/.test(
          await tab.page.locator("#backend-registry").innerText(),
        ) &&
        /^reachable/.test(
          await tab.page.locator("#backend-history").innerText(),
        ),
      "etcd and Redis reachable",
    );
    const routers = await tab.table("#routers");
    assert.equal(routers.length, 1);
    assert.equal(routers[0]![5], "yes", "route cache ready");

    // A new connection shows in connects per second.
    const { client: erin } = await connect(cluster, 2, "erin");
    await tab.until(
      async () => (await tab.rates("peak")).connects > 0,
      "connects/s above 0",
    );

    await tab.lookUp("alice");
    const [device] = await tab.devices();
    assert.equal(device!.node, welcome.nodeId);
    assert.equal(device!.cells[1], "phone");
    const [key] = await tab.table("#user-keys");
    assert.equal(key![0], `/wsgw/users/alice/${welcome.nodeId}`);
    const lease = nodes.find((n) => n.node === welcome.nodeId)!.cells[7];
    // The node's cell may add "(renewing)" on a busy machine.
    assert.match(key![2]!, /^\d+$/);
    assert.ok(lease!.startsWith(key![2]!), "the key hangs on its node's lease");

    const answer = await tab.push({ text: "from the console" });
    assert.match(answer, /seq 1, 1 device\(s\) reached/);
    const [message] = await alice.waitMessages(1);
    assert.deepEqual(message!.data, { text: "from the console" });
    await tab.until(async () => {
      // One refresh may see the push and the next its delivery: peaks.
      const peaks = await tab.rates("peak");
      return peaks.pushes > 0 && peaks.deliveries > 0;
    }, "pushes/s and deliveries/s above 0");
    await tab.until(
      async () => (await tab.page.locator("#user-seq").innerText()) === "1",
      "seq 1 in the history view",
    );
    if (Deno.env.get("WSGW_UPDATE_SCREENSHOT") === "1") {
      await Deno.mkdir(new URL(".", SCREENSHOT), { recursive: true });
      await Deno.writeFile(
        SCREENSHOT,
        await tab.page.screenshot({ fullPage: true }),
      );
    }

    await tab.disconnectDevice(device!.conn);
    assert.equal((await alice.closed).code, 4003);
    await tab.until(
      async () => (await tab.devices()).length === 0,
      "alice without devices",
    );

    // Drain: the router asks the node; the page watches it empty and leave.
    assert.match(await tab.drain(target), /1012/);
    const seen: string[] = [];
    await tab.until(
      async () => {
        const row = (await tab.nodes()).find((n) => n.node === target);
        if (row) seen.push(`${row.state}:${row.connections}`);
        return row?.connections === "0" && /left the cluster/.test(row.state);
      },
      "the drained node at 0 connections, gone",
      30_000,
    );
    assert.ok(seen.includes("draining:3"), `seen: ${seen.join(" ")}`);
    for (const client of others) {
      assert.equal((await client.closed).code, 1012);
    }
    const left = await api(cluster, "GET", "/v1/nodes");
    assert.deepEqual(
      left.body.map((n: { nodeId: string }) => n.nodeId),
      cluster.gateways.map((g) => g.nodeId).filter((id) => id !== target)
        .sort(),
    );
    assert.equal(erin.isClosed, undefined);
    await erin.close();
    assert.deepEqual(tab.foreignRequests(), []);
    assert.deepEqual(tab.violations, []);
  },
);
