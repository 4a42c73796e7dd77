/**
 * One shard (a master and its replica) of a test Redis Cluster, and the
 * fault the failover tests need: the replication link cut, so the replica
 * lacks exactly the writes the test makes next.
 *
 * @module
 */
import assert from "node:assert/strict";
import type {
  RedisCluster,
  RedisClusterNode,
} from "../../ops/servers/redis_cluster.ts";
import { dropTcpFlow, type NetFault } from "./net_fault.ts";
import { waitFor } from "./until.ts";

/** A master and its replica. */
export type Shard = { master: RedisClusterNode; replica: RedisClusterNode };

/** The slot of `key`, as the cluster computes it. */
export async function slotOf(
  cluster: RedisCluster,
  key: string,
): Promise<number> {
  return Number(
    await cluster.cli(cluster.ports[0]!, "CLUSTER", "KEYSLOT", key),
  );
}

/** The shard serving `key`. */
export async function shardOf(
  cluster: RedisCluster,
  key: string,
): Promise<Shard> {
  const slot = await slotOf(cluster, key);
  const nodes = await cluster.nodes();
  const master = nodes.find((node) =>
    node.role === "master" &&
    node.slots.some(([first, last]) => first <= slot && slot <= last)
  );
  assert.ok(master, `no master serves slot ${slot}`);
  const replica = nodes.find((node) => node.masterId === master.id);
  assert.ok(replica, `master ${master.port} has no replica`);
  return { master, replica };
}

/**
 * Drops what the master sends its replica (the replica's end of the link
 * found in the master's `CLIENT LIST`); the rule goes with the fault.
 */
export async function cutReplication(
  cluster: RedisCluster,
  shard: Shard,
): Promise<NetFault> {
  const list = await cluster.cli(
    shard.master.port,
    "CLIENT",
    "LIST",
    "TYPE",
    "replica",
  );
  const addr = /addr=127\.0\.0\.1:(\d+)/.exec(list);
  assert.ok(addr, `no replica connected to ${shard.master.port}: ${list}`);
  return await dropTcpFlow(shard.master.port, Number(addr[1]));
}

/**
 * The master dies (SIGKILL) and its replica takes over without it
 * (`CLUSTER FAILOVER TAKEOVER`); resolves once the replica says it is master.
 * `whileDown` runs between the two.
 */
export async function killAndTakeOver(
  cluster: RedisCluster,
  shard: Shard,
  whileDown: () => Promise<void> = () => Promise.resolve(),
): Promise<void> {
  await cluster.kill(shard.master.port);
  await whileDown();
  assert.equal(
    await cluster.cli(shard.replica.port, "CLUSTER", "FAILOVER", "TAKEOVER"),
    "OK",
  );
  await waitFor(
    async () =>
      (await cluster.cli(shard.replica.port, "ROLE")).startsWith("master"),
    { what: "the replica to be master" },
  );
}
