/**
 * RedisHistory against a real Redis Cluster (3 masters, 3 replicas): the
 * History contract, then what only a cluster has (users spread over every
 * master, one pipeline per master). The failover cases are in
 * `history_cluster_failover.test.ts`.
 *
 * One cluster serves the whole file (starting one takes seconds); each
 * history opened on it gets a key prefix of its own, so tests never share
 * keys. The last test stops it, and the unload handler kills it when a
 * filter left that test out.
 */
import assert from "node:assert/strict";
import { Cluster } from "ioredis";
import type { History, HistoryOptions } from "../../shared/history/mod.ts";
import { RedisHistory } from "../../shared/history/redis.ts";
import { silentLogger } from "../../shared/log.ts";
import { startRedisCluster } from "../../ops/servers/redis_cluster.ts";
import { freePort } from "../../ops/cluster/ports.ts";
import { UnavailableError } from "../../shared/errors.ts";
import { makeTestCerts } from "../_support/tls_certs.ts";
import {
  historyContract,
  message,
  seqs,
} from "../_support/history_contract.ts";

const cluster = await startRedisCluster();
addEventListener("unload", () => {
  // Synchronous: kills what the last test did not stop.
  void cluster[Symbol.asyncDispose]();
});

let prefixes = 0;
function connect(
  options: Partial<Parameters<typeof RedisHistory.connect>[0]> = {},
): Promise<RedisHistory> {
  return RedisHistory.connect({
    size: 100,
    ttl: 60,
    url: cluster.url,
    log: silentLogger,
    keyPrefix: `t${++prefixes}:`,
    ...options,
  });
}

historyContract(
  "redis cluster",
  (options: HistoryOptions): Promise<History> => connect(options),
);

Deno.test("redis cluster history - append to users on every master is one pipeline per master; each user's keys share a slot", async () => {
  await using history = await connect({ keyPrefix: "spread:" });
  const users = Array.from({ length: 3000 }, (_, i) => `user-${i}`);
  // ioredis' Cluster builds its auto-pipelines with its own pipeline(), one
  // per group of nodes serving a slot: here, one per master.
  let pipelines = 0;
  const proto = Cluster.prototype as unknown as Record<
    "pipeline",
    (...args: unknown[]) => unknown
  >;
  const { pipeline } = proto;
  proto.pipeline = function (this: unknown, ...args: unknown[]) {
    pipelines++;
    return pipeline.apply(this, args);
  };
  let given: number[];
  const started = performance.now();
  try {
    given = await seqs(history.append(users, message()));
  } finally {
    proto.pipeline = pipeline;
  }
  const ms = performance.now() - started;
  assert.deepEqual(given, users.map(() => 1));
  assert.equal(pipelines, 3);
  const raw = new Cluster(
    cluster.ports.map((port) => ({ host: "127.0.0.1", port })),
    { lazyConnect: true },
  );
  await raw.connect();
  try {
    const masters = raw.nodes("master");
    assert.equal(masters.length, 3);
    const keys = await Promise.all(
      masters.map((node) => node.keys("spread:*")),
    );
    // 3000 users, 2 keys each, spread over the three masters.
    assert.equal(keys.flat().length, 6000);
    for (const held of keys) assert.ok(held.length > 1000, `${held.length}`);
    for (const user of ["user-0", "user-1234", "user-2999"]) {
      const tag = `spread:{${user}}`;
      const [meta, stream] = await Promise.all([
        raw.cluster("KEYSLOT", `${tag}:meta`),
        raw.cluster("KEYSLOT", `${tag}:stream`),
      ]);
      assert.equal(meta, stream, user);
      assert.equal(await raw.hget(`${tag}:meta`, "seq"), "1");
      assert.equal(await raw.xlen(`${tag}:stream`), 1);
    }
  } finally {
    await raw.quit();
  }
  // deno-lint-ignore no-console
  console.log(`  append to 3,000 users on 3 masters: ${ms.toFixed(1)} ms`);
});

Deno.test("redis cluster history - connect to a cluster none of whose seeds answers fails fast, naming it", async () => {
  const url = `redis+cluster://127.0.0.1:${freePort()},127.0.0.1:${freePort()}`;
  const started = Date.now();
  await assert.rejects(
    connect({ url, connectTimeout: 500 }),
    (error: Error) => {
      assert.ok(error instanceof UnavailableError, String(error));
      assert.match(
        error.message,
        /^Redis at redis\+cluster:\/\/127\.0\.0\.1:\d+,127\.0\.0\.1:\d+ is unreachable/,
      );
      return true;
    },
  );
  assert.ok(Date.now() - started < 3000, `${Date.now() - started} ms`);
});

Deno.test("redis cluster history - a login in the URL is used, and never shown", async () => {
  const seed = cluster.ports[0]!;
  try {
    for (const port of cluster.ports) {
      await cluster.cli(
        port,
        "ACL",
        "SETUSER",
        "wsgw",
        "on",
        ">pw-123",
        "~*",
        "+@all",
      );
    }
    await using history = await connect({
      url: `redis+cluster://wsgw:pw-123@127.0.0.1:${seed}`,
    });
    assert.deepEqual(await seqs(history.append(["u", "v", "w"], message())), [
      1,
      1,
      1,
    ]);
    await assert.rejects(
      connect({
        url: `redis+cluster://wsgw:wrong-pw@127.0.0.1:${seed}`,
        connectTimeout: 500,
      }),
      (error: Error) => {
        assert.ok(error instanceof UnavailableError, String(error));
        assert.ok(!error.message.includes("wrong-pw"), error.message);
        assert.match(error.message, /WRONGPASS/);
        return true;
      },
    );
  } finally {
    for (const port of cluster.ports) {
      await cluster.cli(port, "ACL", "DELUSER", "wsgw");
    }
  }
});

Deno.test("redis cluster history - over TLS (rediss+cluster://): appends, reads and push ids on every master", async () => {
  await using certs = await makeTestCerts();
  await using tlsCluster = await startRedisCluster({
    tls: { cert: certs.server.cert, key: certs.server.key, ca: certs.ca },
  });
  await using history = await RedisHistory.connect({
    url: tlsCluster.url,
    tls: { ca: await Deno.readFile(certs.ca) },
    size: 10,
    ttl: 60,
    log: silentLogger,
  });
  const users = Array.from({ length: 30 }, (_, i) => `tls-${i}`);
  assert.deepEqual(
    await seqs(history.append(users, message())),
    users.map(() => 1),
  );
  assert.equal((await history.read("tls-29", 0, 10)).seq, 1);
  assert.deepEqual(await history.reserve("p"), { state: "reserved" });
  await history.ping();
  // Without the CA the server's certificate is refused.
  await assert.rejects(
    RedisHistory.connect({
      url: tlsCluster.url,
      size: 10,
      ttl: 60,
      log: silentLogger,
      connectTimeout: 1000,
    }),
    UnavailableError,
  );
});

Deno.test("redis cluster history - stop the cluster", async () => {
  await cluster[Symbol.asyncDispose]();
});
