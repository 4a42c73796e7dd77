/**
 * A Redis Cluster master dies with appends its replica never got, and the
 * replica takes over: the seqs of those appends must not be handed out again
 * in the same epoch, or a connection that already passed them drops the new
 * messages as duplicates, silently. The replication link is cut with an
 * iptables rule on loopback (master port to the replica's side of the link),
 * so which appends the replica lacks is decided by the test, not by timing.
 */
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { historySlice } from "../../gateway/connect_flow.ts";
import {
  DeliveryOrder,
  type OrderedFrame,
} from "../../gateway/delivery_order.ts";
import type { Appended, NewMessage } from "../../shared/history/mod.ts";
import { RedisHistory } from "../../shared/history/redis.ts";
import { type LogFields, silentLogger } from "../../shared/log.ts";
import {
  type RedisCluster,
  startRedisCluster,
} from "../../ops/servers/redis_cluster.ts";
import { message } from "../_support/history_contract.ts";
import {
  cutReplication,
  killAndTakeOver,
  shardOf,
  slotOf,
} from "../_support/redis_cluster_shard.ts";
import { RecordingSink } from "../_support/order_fakes.ts";
import { waitFor } from "../_support/until.ts";

const USER = "alice";
const META = `wsgw:{${USER}}:meta`;

/** A user whose keys live on the same master as {@link USER}'s. */
async function neighbour(
  cluster: RedisCluster,
  slots: [number, number][],
): Promise<string> {
  for (let i = 0;; i++) {
    const slot = await slotOf(cluster, `wsgw:{bob-${i}}:meta`);
    if (slots.some(([first, last]) => first <= slot && slot <= last)) {
      return `bob-${i}`;
    }
  }
}

/** One connection of the user, as a gateway runs it, fed by the test. */
async function connection(history: RedisHistory) {
  const sink = new RecordingSink();
  const order = new DeliveryOrder({
    sink,
    read: async (after) =>
      historySlice(await history.read(USER, after, 100), after, 100, null),
    maxQueueBytes: 1 << 20,
    onOverflow: () => assert.fail("queue overflow"),
  });
  const first = await history.read(USER, 0, 0);
  await order.start({ epoch: first.epoch, lastSeq: first.seq }, undefined);
  return {
    order,
    sink,
    /** Delivers an appended message live, as a router would. */
    deliver(m: NewMessage, [at]: Appended[]) {
      const frame: OrderedFrame = {
        seq: at!.seq,
        epoch: at!.epoch,
        id: m.id,
        ts: m.ts,
        json: m.dataJson,
      };
      order.deliver(frame);
    },
  };
}

Deno.test("redis cluster history - appends a failover lost: the next append or read starts a new epoch, and a connection past them gets a reset and the new messages", async () => {
  await using cluster = await startRedisCluster({ manualFailover: true });
  const warnings: LogFields[] = [];
  const log = { ...silentLogger };
  log.warn = (event, fields) => warnings.push({ event, ...fields });
  await using history = await RedisHistory.connect({
    url: cluster.url,
    size: 100,
    ttl: 60,
    log,
  });
  const shard = await shardOf(cluster, META);
  const { master, replica } = shard;
  let tookOver = 0;
  // A second user of that master is read, not appended to, after the
  // failover: a device resuming from a lost seq.
  const bob = await neighbour(cluster, master.slots);
  const [bobKept] = await history.append([bob], message());
  await history.append([bob], message());
  const conn = await connection(history);
  const appendAndDeliver = async (label: string) => {
    const m = message(label);
    const appended = await history.append([USER], m);
    conn.deliver(m, appended);
    return appended[0]!;
  };

  const kept = [];
  for (let i = 1; i <= 5; i++) kept.push(await appendAndDeliver(`kept-${i}`));
  const epoch = kept[0]!.epoch;
  const onReplica = new Redis({ port: replica.port, lazyConnect: true });
  await onReplica.connect();
  try {
    await onReplica.readonly();
    const bobMeta = `wsgw:{${bob}}:meta`;
    await waitFor(
      async () =>
        await onReplica.hget(META, "seq") === "5" &&
        await onReplica.hget(bobMeta, "seq") === "2",
      { what: "the replica to hold seq 5 and bob's seq 2" },
    );

    // The replica stops hearing from its master; appends go on.
    await using cut = await cutReplication(cluster, shard);
    const lost = [];
    for (let i = 1; i <= 3; i++) lost.push(await appendAndDeliver(`lost-${i}`));
    assert.deepEqual(lost.map((a) => [a.epoch, a.seq]), [
      [epoch, 6],
      [epoch, 7],
      [epoch, 8],
    ]);
    const [bobLost] = await history.append([bob], message());
    assert.deepEqual([bobLost!.epoch, bobLost!.seq], [bobKept!.epoch, 3]);
    assert.equal(await onReplica.hget(META, "seq"), "5");
    assert.equal(await onReplica.hget(bobMeta, "seq"), "2");

    // The master dies; its replica takes over without it. Meanwhile the
    // cluster is not ok, and the history says so.
    await killAndTakeOver(cluster, shard, async () => {
      await waitFor(() => history.ping().then(() => false, () => true), {
        timeout: 10_000,
        what: "ping to fail while a slot has no master",
      });
    });
    tookOver = performance.now();
    await cut.heal();
  } finally {
    onReplica.disconnect();
  }
  assert.deepEqual(conn.sink.seqs(), [1, 2, 3, 4, 5, 6, 7, 8]);

  // The first append that reaches the new master. Earlier tries fail
  // before they run: the old master refuses connections.
  const after = message("after-failover");
  let failedTries = 0;
  const appended = await waitFor(
    () =>
      history.append([USER], after).catch(() => {
        failedTries++;
        return undefined;
      }),
    { timeout: 15_000, interval: 100, what: "an append on the new master" },
  );
  // deno-lint-ignore no-console
  console.log(
    `  first append on the new master ${
      (performance.now() - tookOver).toFixed(0)
    } ms after TAKEOVER (${failedTries} tries failed before)`,
  );
  conn.deliver(after, appended);
  await conn.order.idle();
  await waitFor(() => history.ping().then(() => true, () => false), {
    what: "ping to pass once the replica serves the slot",
  });

  assert.deepEqual(warnings, [{
    event: "history cluster node gone",
    backend: "redis",
    node: `127.0.0.1:${master.port}`,
  }]);
  const [now] = appended;
  assert.notEqual(now!.epoch, epoch, "the lost seqs were given out again");
  assert.equal(now!.seq, 1);
  assert.deepEqual(conn.sink.seen.slice(8), [
    { type: "reset", epoch: now!.epoch },
    { type: "message", seq: 1, id: after.id },
  ]);
  // A device that resumes from seq 8 of the old epoch is told too.
  const resumed = await history.read(USER, 8, 100);
  assert.equal(resumed.epoch, now!.epoch);
  // Read before any append after the failover: bob's history, which lost
  // seq 3, is on a new epoch already, so the welcome tells his device.
  const bobRead = await history.read(bob, 3, 100);
  assert.notEqual(bobRead.epoch, bobKept!.epoch);
  assert.deepEqual([bobRead.seq, bobRead.messages], [0, []]);
});
