/**
 * An append to users on every master of a Redis Cluster while one master
 * hangs (SIGSTOP: its connections stay open, nothing answers) and no replica
 * takes over: the users of the other masters are stored, and the error says
 * which users were, with their seqs, once the deadline has passed for the
 * hung master's users.
 */
import assert from "node:assert/strict";
import { PartialAppendError, UnavailableError } from "../../shared/errors.ts";
import { RedisHistory } from "../../shared/history/redis.ts";
import { silentLogger } from "../../shared/log.ts";
import { startRedisCluster } from "../../ops/servers/redis_cluster.ts";
import { message, seqs } from "../_support/history_contract.ts";
import { shardOf } from "../_support/redis_cluster_shard.ts";

Deno.test("redis cluster history - one master hung: an append stores the other masters' users and says which, with their seqs; an append to the hung master's users only fails as before", async () => {
  // No replica takes over, and the cluster does not mark the master failed
  // (which would stop the other masters too) within the test.
  await using cluster = await startRedisCluster({
    manualFailover: true,
    nodeTimeout: 60_000,
  });
  const commandTimeout = 500;
  await using history = await RedisHistory.connect({
    url: cluster.url,
    size: 10,
    ttl: 60,
    log: silentLogger,
    commandTimeout,
  });
  const users = Array.from({ length: 30 }, (_, i) => `user-${i}`);
  const hung = await shardOf(cluster, `wsgw:{${users[0]}}:meta`);
  const onHung: boolean[] = [];
  for (const user of users) {
    const { master } = await shardOf(cluster, `wsgw:{${user}}:meta`);
    onHung.push(master.id === hung.master.id);
  }
  assert.ok(onHung.includes(false), "every user on one master");
  assert.deepEqual(
    await seqs(history.append(users, message())),
    users.map(() => 1),
  );

  cluster.pause(hung.master.port, true);
  try {
    const started = performance.now();
    const error = await history.append(users, message()).then(
      () => assert.fail("the append to a hung master's users succeeded"),
      (error: unknown) => error,
    );
    const ms = performance.now() - started;
    // Before, one hung master failed the whole append: a plain
    // UnavailableError, although the other masters stored their users.
    assert.ok(error instanceof PartialAppendError, String(error));
    assert.deepEqual(
      error.appended.map((at) => at?.seq),
      onHung.map((hung) => hung ? undefined : 2),
    );
    const epochs = new Set(error.appended.map((at) => at?.epoch));
    assert.equal(epochs.size, 2, "one epoch for the stored users");
    const stored = onHung.filter((hung) => !hung).length;
    assert.match(
      error.message,
      new RegExp(
        `^history append stored the message for ${stored} of 30 users; the others failed: history append: no answer within \\d+ ms \\(${
          30 - stored
        }\\)$`,
      ),
    );
    // The hung master's users had the whole deadline (500 ms, 1 ms per
    // user after the first), no more.
    assert.ok(ms >= commandTimeout, `${ms} ms`);
    assert.ok(ms < commandTimeout + 29 + 1000, `${ms} ms`);

    // Only the hung master's users: nothing stored, the error of before.
    const only = users.filter((_, i) => onHung[i]);
    await assert.rejects(history.append(only, message()), (error: Error) => {
      assert.ok(error instanceof UnavailableError, String(error));
      assert.ok(!(error instanceof PartialAppendError), String(error));
      return true;
    });
    // The other masters' users, meanwhile: stored, every one.
    const others = users.filter((_, i) => !onHung[i]);
    assert.deepEqual(
      await seqs(history.append(others, message())),
      others.map(() => 3),
    );
  } finally {
    cluster.pause(hung.master.port, false);
  }
});
