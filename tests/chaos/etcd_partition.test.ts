/**
 * Partition of a three-member etcd cluster (#12, finding 7): the member a
 * router watches through is cut off from the other two. The router must
 * notice and re-list from a healthy member within 10 s, and a registry that
 * can reach only the cut-off member must stop answering its ping, so
 * `/readyz` says not ready instead of serving a frozen cache.
 */
import assert from "node:assert/strict";
import { silentLogger } from "../../shared/log.ts";
import { EtcdRegistry } from "../../shared/registry/etcd.ts";
import { RouteCache } from "../../router/route_cache.ts";
import { startEtcdCluster } from "../_support/etcd_cluster.ts";
import { nodeRecord } from "../_support/registry_contract.ts";
import { waitFor } from "../_support/until.ts";

/** What the finding demands, from the moment the member is cut off. */
const NOTICE_WITHIN_MS = 10_000;

function connect(endpoints: readonly string[]): Promise<EtcdRegistry> {
  return EtcdRegistry.connect({
    endpoints: [...endpoints],
    prefix: "/wsgw",
    leaseTtl: 5,
    log: silentLogger,
    connectTimeout: 15_000,
  });
}

Deno.test("etcd partition - a router watching a member cut off from the quorum re-lists from a healthy member within 10 s", async () => {
  await using cluster = await startEtcdCluster();
  await using watcher = await connect(cluster.endpoints);
  await using routes = new RouteCache({ registry: watcher, log: silentLogger });
  routes.start();
  await routes.ready;
  const cut = await waitFor(
    async () => {
      const open = await cluster.watchStreams();
      return open.length === 1 ? { index: open[0]! } : undefined;
    },
    { what: "the router's watch stream on one member" },
  ).then((found) => found.index);
  const healthy = cluster.endpoints.filter((_, i) => i !== cut);
  // A registry that can reach only the member about to be cut off.
  await using lonely = await connect([cluster.endpoints[cut]!]);
  await using writer = await connect(healthy);
  await using node = await writer.join(nodeRecord("n1"));
  await node.register("before");
  await waitFor(() => routes.owners("before").length === 1, {
    what: "the first user in the route cache",
  });

  try {
    await cluster.isolate(cut);
    const cutAt = Date.now();
    await node.register("after");
    const registeredIn = Date.now() - cutAt;
    await waitFor(() => routes.owners("after")[0] === "n1", {
      timeout: NOTICE_WITHIN_MS - (Date.now() - cutAt),
      interval: 50,
      what: `"after" (registered through a healthy member ${registeredIn} ms ` +
        `after member ${cut} was cut off) in the route cache`,
    });
    const caughtUp = Date.now() - cutAt;
    assert.ok(caughtUp <= NOTICE_WITHIN_MS, `caught up after ${caughtUp} ms`);
    assert.ok(watcher.stats.watchRestarts >= 1, "the watch listed again");
    await waitFor(
      async () => {
        try {
          await lonely.ping();
          return false;
        } catch {
          return true;
        }
      },
      {
        timeout: NOTICE_WITHIN_MS - (Date.now() - cutAt),
        interval: 100,
        what: "the ping through the cut-off member to fail",
      },
    );
    // The router with a healthy member in reach stays ready.
    await watcher.ping();
  } finally {
    await cluster.heal(cut);
  }
});
