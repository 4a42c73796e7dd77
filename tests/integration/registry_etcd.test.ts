/**
 * EtcdRegistry against a real etcd: the Registry contract, then what only a
 * distributed backend has to survive (coalescing, lease loss, outages,
 * compaction, big listings).
 *
 * @module
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { Etcd3 } from "etcd3";
import { deadline } from "../../shared/deadline.ts";
import { createLogger, type Logger, silentLogger } from "../../shared/log.ts";
import {
  type EtcdMembership,
  EtcdRegistry,
  type EtcdRegistryOptions,
  RegistryUnavailableError,
} from "../../shared/registry/etcd.ts";
import type { RegistryEvent } from "../../shared/registry/mod.ts";
import { bulkLoadUsers, bulkUser } from "../../ops/servers/etcd_bulk.ts";
import { type EtcdServer, startEtcd } from "../../ops/servers/etcd_server.ts";
import { nodeRecord, registryContract } from "../_support/registry_contract.ts";
import { freePort, waitFor } from "../_support/until.ts";
import { WatchMirror } from "../_support/watch_mirror.ts";

registryContract("etcd", async () => {
  const etcd = await startEtcd();
  return {
    open: () =>
      EtcdRegistry.connect({
        endpoints: [etcd.endpoint],
        prefix: "/wsgw",
        leaseTtl: 3,
        log: silentLogger,
      }),
    [Symbol.asyncDispose]: () => etcd[Symbol.asyncDispose](),
  };
});

/** Options every test registry gets, unless a test says otherwise. */
function connect(
  etcd: EtcdServer,
  options: Partial<EtcdRegistryOptions> = {},
): Promise<EtcdRegistry> {
  return EtcdRegistry.connect({
    endpoints: [etcd.endpoint],
    prefix: "/wsgw",
    leaseTtl: 2,
    log: silentLogger,
    ...options,
  });
}

/** A logger that keeps the events it was given, to wait on "lease lost" etc. */
function recordingLogger(): Logger & { events: string[] } {
  const events: string[] = [];
  const log = createLogger({
    level: "debug",
    write: (line) => events.push(JSON.parse(line).event),
  });
  return Object.assign(log, { events });
}

/** How many keys etcd holds under `prefix`, asked with etcdctl. */
async function countKeys(etcd: EtcdServer, prefix: string): Promise<number> {
  const out = await etcd.etcdctl(
    "get",
    prefix,
    "--prefix",
    "--keys-only",
    "--limit=1", // the JSON answer's "count" is still the total
    "--write-out=json",
  );
  return (JSON.parse(out) as { count?: number }).count ?? 0;
}

const users = (n: number, tag = "u") =>
  Array.from({ length: n }, (_, i) => `${tag}-${i}`);

Deno.test("etcd registry - 10k registrations coalesce into at most 100 txns", async () => {
  await using etcd = await startEtcd();
  await using reg = await connect(etcd);
  await using node = await reg.join(nodeRecord("n1"));
  const all = users(10_000);
  await Promise.all(all.map((user) => node.register(user)));
  assert.equal(reg.stats.ops, 10_000);
  assert.ok(reg.stats.txns <= 100, `${reg.stats.txns} txns`);
  assert.equal(await countKeys(etcd, "/wsgw/users/"), 10_000);

  await Promise.all(all.map((user) => node.unregister(user)));
  assert.ok(reg.stats.txns <= 200, `${reg.stats.txns} txns`);
  assert.equal(await countKeys(etcd, "/wsgw/users/"), 0);
  assert.equal(reg.stats.txnRetries, 0);
});

Deno.test("etcd registry - a killed node's keys vanish within the lease TTL", async () => {
  await using etcd = await startEtcd();
  await using reg = await connect(etcd);
  const ttl = 2;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../_support/registry_node_child.ts", import.meta.url).pathname,
      etcd.endpoint,
      "/wsgw",
      "doomed",
      String(ttl),
      "50",
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  try {
    const reader = child.stdout.pipeThrough(new TextDecoderStream())
      .getReader();
    const { value } = await deadline(
      reader.read(),
      30_000,
      "the child's ready",
    );
    assert.equal(value?.trim(), "ready");
    reader.releaseLock();
    await using mirror = new WatchMirror(reg);
    await waitFor(() => mirror.pairs === 50 && mirror.nodes.has("doomed"), {
      what: "the child's 50 users",
    });
    const killedAt = Date.now();
    child.kill("SIGKILL");
    await waitFor(() => mirror.pairs === 0 && !mirror.nodes.has("doomed"), {
      timeout: ttl * 1000 + 2000,
      what: "the dead node's keys to expire",
    });
    const ms = Date.now() - killedAt;
    assert.ok(ms <= ttl * 1000 + 1500, `keys vanished after ${ms} ms`);
    assert.deepEqual(await reg.owners("child-0"), []);
    assert.equal(mirror.resets, 1);
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* already dead: killed above */ }
    await child.status;
    await child.stdout.cancel().catch(() => {});
  }
});

Deno.test("etcd registry - a lease revoked behind the node's back is regranted", async () => {
  await using etcd = await startEtcd();
  const log = recordingLogger();
  await using reg = await connect(etcd, { log });
  await using watcher = await connect(etcd);
  await using node = await reg.join(nodeRecord("n1")) as EtcdMembership;
  const held = users(300);
  await Promise.all(held.map((user) => node.register(user)));
  await using mirror = new WatchMirror(watcher);
  await waitFor(() => mirror.pairs === 300, { what: "300 users mirrored" });

  const oldLease = node.leaseId;
  await etcd.etcdctl("lease", "revoke", BigInt(oldLease).toString(16));
  // Calls made while the lease is being replaced wait; none rejects.
  const late = users(50, "late").map((user) => node.register(user));
  await waitFor(() => reg.stats.leaseRegrants === 1 && node.healthy, {
    timeout: 10_000,
    what: "the lease to be regranted",
  });
  await deadline(Promise.all(late), 5000, "the late registrations");
  assert.notEqual(node.leaseId, oldLease);
  assert.ok(log.events.includes("lease lost"), log.events.join());
  assert.ok(log.events.includes("lease regranted"), log.events.join());
  assert.equal(await countKeys(etcd, "/wsgw/users/"), 350);
  assert.deepEqual(await watcher.owners("u-299"), ["n1"]);
  assert.deepEqual((await watcher.nodes()).map((n) => n.nodeId), ["n1"]);
  await waitFor(() => mirror.pairs === 350 && mirror.nodes.has("n1"), {
    what: "the mirror to see every user back",
  });
});

Deno.test("etcd registry - registrations made while etcd is down flush when it returns", async () => {
  await using etcd = await startEtcd();
  await using reg = await connect(etcd, { leaseTtl: 3 });
  await using node = await reg.join(nodeRecord("n1"));
  await node.register("before");
  await etcd.stop();
  let rejected = 0;
  const pending = users(500, "during").map((user) =>
    node.register(user).catch(() => rejected++)
  );
  const gone = node.unregister("before").catch(() => rejected++);
  await waitFor(() => reg.stats.txnRetries > 0, { what: "a failed txn" });
  await etcd.restart();
  await deadline(Promise.all([...pending, gone]), 10_000, "the queued calls");
  assert.equal(rejected, 0);
  assert.equal(await countKeys(etcd, "/wsgw/users/"), 500);
  assert.deepEqual(await reg.owners("before"), []);
  await waitFor(() => node.healthy, { what: "a healthy membership" });
});

Deno.test("etcd registry - an outage longer than the TTL ends with a new lease and every user back", async () => {
  await using etcd = await startEtcd();
  const log = recordingLogger();
  await using reg = await connect(etcd, { log, leaseTtl: 2 });
  await using node = await reg.join(nodeRecord("n1"));
  await Promise.all(users(200).map((user) => node.register(user)));
  await etcd.stop();
  await waitFor(() => !node.healthy, { what: "an unhealthy membership" });
  // Wait for the watchdog itself: a restart before it fires would find the
  // lease alive (etcd renews leases on restart), and nothing to regrant.
  await waitFor(() => log.events.includes("lease lost"), {
    timeout: 5000,
    what: "the watchdog to declare the lease lost",
  });
  const during = users(20, "during").map((user) => node.register(user));
  await etcd.restart();
  await deadline(
    Promise.all(during),
    10_000,
    "the registrations made meanwhile",
  );
  await waitFor(() => node.healthy && reg.stats.leaseRegrants === 1, {
    timeout: 10_000,
    what: "the membership to be healthy again",
  });
  // The old lease survives a restart in etcd (leases are renewed when a
  // leader is elected), and is revoked once the users moved off it.
  await waitFor(async () => await countKeys(etcd, "/wsgw/users/") === 220, {
    what: "220 user keys",
  });
  assert.deepEqual((await reg.nodes()).map((n) => n.nodeId), ["n1"]);
});

Deno.test("etcd registry - watch lists again after an etcd restart", async () => {
  await using etcd = await startEtcd();
  await using reg = await connect(etcd);
  await using watcher = await connect(etcd);
  await using node = await reg.join(nodeRecord("n1"));
  await node.register("alice");
  await using mirror = new WatchMirror(watcher);
  await waitFor(() => mirror.has("alice", "n1"), { what: "alice mirrored" });
  await etcd.restart();
  await node.register("bob");
  await node.unregister("alice");
  await waitFor(() => mirror.has("bob", "n1") && !mirror.has("alice", "n1"), {
    timeout: 10_000,
    what: "the changes made after the restart",
  });
  assert.ok(mirror.resets >= 2, `${mirror.resets} resets`);
  assert.ok(watcher.stats.watchRestarts >= 1);
});

Deno.test("etcd registry - a silent watch lists again", async () => {
  await using etcd = await startEtcd();
  const log = recordingLogger();
  await using watcher = await connect(etcd, {
    log,
    watchProgressInterval: 200,
    watchProgressTimeout: 300,
    callTimeout: 1000,
  });
  await using reg = await connect(etcd, { leaseTtl: 5 });
  await using node = await reg.join(nodeRecord("n1"));
  await using mirror = new WatchMirror(watcher);
  await waitFor(() => mirror.resets === 1, { what: "the first reset" });
  // A frozen etcd keeps its connections open and answers nothing: only the
  // unanswered progress request tells the watch it is deaf.
  etcd.pause();
  try {
    await waitFor(() => log.events.includes("registry watch restarting"), {
      what: "the watch to give up on the silent stream",
    });
  } finally {
    etcd.resume();
  }
  await node.register("after");
  await waitFor(() => mirror.has("after", "n1"), {
    timeout: 10_000,
    what: "a change made after the thaw",
  });
  assert.ok(mirror.resets >= 2, `${mirror.resets} resets`);
});

Deno.test("etcd registry - a watcher on 20k keys gets them all in its first reset", async () => {
  await using etcd = await startEtcd();
  await bulkLoadUsers(etcd.endpoint, { count: 20_000 });
  await using reg = await connect(etcd, { listPageSize: 1500 });
  await using mirror = new WatchMirror(reg);
  await waitFor(() => mirror.resets === 1, {
    timeout: 10_000,
    what: "the first reset",
  });
  const [reset] = mirror.events;
  assert.equal(reset?.type, "reset");
  assert.equal(reset.type === "reset" && reset.users.length, 20_000);
  assert.deepEqual(mirror.owners(bulkUser(12_345)), ["bulk-5"]);
});

Deno.test("etcd registry - connect() fails clearly when etcd is unreachable", async () => {
  const endpoint = `http://127.0.0.1:${freePort()}`;
  const started = Date.now();
  await assert.rejects(
    EtcdRegistry.connect({
      endpoints: [endpoint],
      prefix: "/wsgw",
      leaseTtl: 2,
      log: silentLogger,
      connectTimeout: 1000,
    }),
    (error: Error) => {
      assert.ok(error instanceof RegistryUnavailableError, String(error));
      assert.match(error.message, new RegExp(endpoint));
      return true;
    },
  );
  assert.ok(Date.now() - started < 3000);
});

Deno.test("etcd registry - ping() rejects while etcd is down", async () => {
  await using etcd = await startEtcd();
  await using reg = await connect(etcd, { pingTimeout: 500 });
  await reg.ping();
  await etcd.stop();
  await assert.rejects(reg.ping(), RegistryUnavailableError);
  await etcd.restart();
  await waitFor(() => reg.ping().then(() => true), { what: "ping to succeed" });
});

Deno.test("etcd registry - a watch that falls behind a compaction lists again", async () => {
  await using etcd = await startEtcd();
  const lines: string[] = [];
  const log = createLogger({ level: "debug", write: (l) => lines.push(l) });
  await using reg = await connect(etcd, { log, watchHighWater: 16 });
  await using writer = await connect(etcd);
  await using node = await writer.join(nodeRecord("n1"));
  await node.register("alice");
  const abort = new AbortController();
  const events = reg.watch(abort.signal)[Symbol.asyncIterator]();
  try {
    assert.equal((await events.next()).value?.type, "reset");
    // Nobody reads the watch now: it pauses its stream at 16 queued events,
    // etcd's buffers fill up and the watcher falls behind; 400 revisions of
    // 8 KB values get it there quickly. Then compact past it.
    const client = new Etcd3({ hosts: [etcd.endpoint] });
    try {
      const big = Buffer.alloc(8192, "x");
      let next = 0;
      await Promise.all(Array.from({ length: 8 }, async () => {
        while (next < 400) {
          await client.put(`/wsgw/users/filler-${next++}/bulk`).value(big);
        }
      }));
    } finally {
      client.close();
    }
    await etcd.compact();
    await node.register("bob");
    await node.unregister("alice");
    let reset: RegistryEvent | undefined;
    for (let i = 0; i < 10_000 && reset === undefined; i++) {
      const { value } = await deadline(events.next(), 10_000, "an event");
      if (value?.type === "reset") reset = value;
    }
    assert.ok(reset?.type === "reset", "a second reset");
    assert.equal(reset.users.length, 401);
    assert.deepEqual(
      reset.users.filter((u) => !u.user.startsWith("filler-")),
      [{ user: "bob", nodeId: "n1" }],
    );
    assert.equal(reg.stats.watchRestarts, 1);
    assert.ok(lines.some((l) => l.includes("compacted")), lines.join("\n"));
  } finally {
    abort.abort();
    await events.return?.();
  }
});
