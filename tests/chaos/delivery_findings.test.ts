/**
 * The delivery findings of the reliability review, each staged on a real
 * cluster (etcd, redis-server, gateways and routers as processes): a history
 * that expires under an open tab, an append that lands after it timed out,
 * a lease lost while pushes are stored, a router killed between append and
 * completion, and the device cap across an etcd outage.
 */
import assert from "node:assert/strict";
import {
  api,
  type Cluster,
  connect,
  ownersInEtcd,
  startTestCluster,
} from "../_support/cluster.ts";
import type { TestClient } from "../_support/ws_client.ts";
import { waitFor } from "../_support/until.ts";

/** Runs `redis-cli` against the cluster's Redis; returns its output. */
async function redisCli(cluster: Cluster, ...args: string[]): Promise<string> {
  const port = new URL(cluster.redis.url).port;
  const out = await new Deno.Command("redis-cli", {
    args: ["-p", port, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return new TextDecoder().decode(out.stdout).trim();
}

/** Ids of the message frames a client got, in order. */
function ids(client: TestClient): string[] {
  return client.messages().map((m) => m.id);
}

async function push(
  cluster: Cluster,
  user: string,
  data: unknown,
  id?: string,
  base?: string,
  // deno-lint-ignore no-explicit-any
): Promise<{ status: number; body: any }> {
  return await api(
    cluster,
    "POST",
    "/v1/push",
    { users: [user], data, ...(id === undefined ? {} : { id }) },
    base,
  );
}

Deno.test("delivery finding 1 - a history that expires under an open tab: the next pushes arrive after a reset frame, each once", async () => {
  await using cluster = await startTestCluster({
    nodes: 1,
    env: { WSGW_HISTORY_TTL: "2" },
  });
  const { client, welcome } = await connect(cluster, 0, "tab");
  await using _ = client;
  for (const n of [1, 2, 3]) {
    assert.equal((await push(cluster, "tab", n, `a${n}`)).status, 200);
  }
  await client.waitMessages(3);
  // The quiet day: no push for longer than the TTL, the keys expire.
  await waitFor(
    async () => await redisCli(cluster, "EXISTS", "wsgw:{tab}:meta") === "0",
    { timeout: 10_000, what: "the history keys to expire" },
  );
  for (const n of [4, 5, 6]) {
    const answer = await push(cluster, "tab", n, `b${n}`);
    assert.equal(answer.body.results[0].seq, n - 3, "a new epoch from seq 1");
  }
  await client.waitMessages(6, 5000);
  assert.deepEqual(ids(client), ["a1", "a2", "a3", "b4", "b5", "b6"]);
  const reset = client.frames.find((f) => f.type === ("reset" as string)) as
    | { epoch: string }
    | undefined;
  assert.ok(reset, "the client was told the history restarted");
  assert.notEqual(reset.epoch, welcome.epoch);
  const seqs = client.messages().map((m) => m.seq);
  assert.deepEqual(seqs, [1, 2, 3, 1, 2, 3]);
});

Deno.test("delivery finding 3 - an append that timed out but landed later is not delivered twice", async () => {
  await using cluster = await startTestCluster({ nodes: 1 });
  const { client } = await connect(cluster, 0, "pat");
  await using _ = client;
  assert.equal(
    (await push(cluster, "pat", "first", "p1")).body.results[0].seq,
    1,
  );
  await client.waitMessages(1);
  // What a Sentinel failover does: writes wait, the router times out.
  await redisCli(cluster, "CLIENT", "PAUSE", "3000", "WRITE");
  // Without an id there is no reservation: the append is the first write.
  const late = await push(cluster, "pat", "late");
  assert.equal(late.status, 200);
  const lateId: string = late.body.id;
  assert.equal(late.body.stored, false, "answered as not stored");
  await client.waitMessages(2);
  // The paused append runs when the pause ends: history has it as seq 2.
  await waitFor(
    async () => {
      const read = await api(cluster, "GET", "/v1/users/pat/messages?since=0");
      return read.body.messages?.some((m: { id: string }) => m.id === lateId);
    },
    { timeout: 10_000, what: "the timed-out append to land" },
  );
  assert.equal(
    (await push(cluster, "pat", "third", "p3")).body.results[0].seq,
    3,
  );
  // A duplicate would come from the gap fill that p3 starts, before p3.
  await waitFor(() => ids(client).includes("p3"), { what: "p3" });
  assert.deepEqual(ids(client), ["p1", lateId, "p3"]);
});

Deno.test("delivery finding 4 - after a lease loss, an open session catches up what was stored meanwhile with no further push", async () => {
  await using cluster = await startTestCluster({ nodes: 1 });
  // The user's first connection looks in history once, a second after its
  // registration; the second connection, watched here, has no such look.
  const { client: first } = await connect(cluster, 0, "sam");
  await using _first = first;
  const { client } = await connect(cluster, 0, "sam");
  await using _ = client;
  const gateway = cluster.gateways[0]!;
  await gateway.kill("SIGSTOP");
  try {
    // Stalled past its lease: the keys vanish, the push is only stored.
    await waitFor(
      async () => (await ownersInEtcd(cluster, "sam")).length === 0,
      {
        timeout: 15_000,
        what: "the stalled node's keys to vanish",
      },
    );
    const stored = await push(cluster, "sam", "while away", "s1");
    assert.equal(stored.body.results[0].devices, 0);
  } finally {
    await gateway.kill("SIGCONT");
  }
  await waitFor(async () => (await ownersInEtcd(cluster, "sam")).length === 1, {
    timeout: 15_000,
    what: "the node to register its user again",
  });
  const back = Date.now();
  await waitFor(() => ids(client).includes("s1"), {
    timeout: 5000,
    what: "the stored push on the open session",
  });
  const caughtUp = Date.now() - back;
  // deno-lint-ignore no-console
  console.log(
    `finding 4: stored push on the open session ${caughtUp} ms after the keys were back`,
  );
  assert.ok(
    caughtUp <= 2500,
    `caught up ${caughtUp} ms after the keys were back`,
  );
  assert.deepEqual(ids(client), ["s1"]);
});

Deno.test("delivery finding 5 - a push retried after the router that took it died is delivered once", async () => {
  await using cluster = await startTestCluster({ nodes: 1, routers: 2 });
  const { client } = await connect(cluster, 0, "rex");
  await using _ = client;
  const gateway = cluster.gateways[0]!;
  const [first, second] = cluster.routers;
  // The node hangs, so router 1 is stuck after the append, before completing.
  await gateway.kill("SIGSTOP");
  const stuck = push(cluster, "rex", "once", "order-7", first!.url).catch(
    () => undefined,
  );
  try {
    await waitFor(
      async () => {
        const read = await api(
          cluster,
          "GET",
          "/v1/users/rex/messages?since=0",
        );
        return read.body.messages?.length === 1;
      },
      { timeout: 10_000, what: "the append" },
    );
    await first!.kill("SIGKILL");
  } finally {
    await gateway.kill("SIGCONT");
  }
  await stuck;
  // The business service retries on the other router until it is answered.
  const answer = await waitFor(async () => {
    const retry = await push(cluster, "rex", "once", "order-7", second!.url);
    return retry.status === 200 ? retry : undefined;
  }, { timeout: 45_000, interval: 500, what: "the retry to be answered" });
  assert.equal(
    answer.body.results[0].seq,
    1,
    "the retry completes the original",
  );
  const read = await api(
    cluster,
    "GET",
    "/v1/users/rex/messages?since=0",
    undefined,
    second!.url,
  );
  assert.equal(read.body.messages.length, 1, "history holds it once");
  // A later push marks the end: everything before it has been written.
  await push(cluster, "rex", "after", "after", second!.url);
  await waitFor(() => ids(client).includes("after"), { what: "the marker" });
  assert.deepEqual(ids(client), ["order-7", "after"]);
});

Deno.test("delivery finding 6 - after an etcd outage, a user over the device cap is brought within it", async () => {
  await using cluster = await startTestCluster({
    nodes: 2,
    env: { WSGW_MAX_DEVICES: "1" },
  });
  await cluster.stopEtcd();
  let older: TestClient;
  let newer: TestClient;
  try {
    older = (await connect(cluster, 0, "cap")).client;
    newer = (await connect(cluster, 1, "cap")).client;
  } finally {
    await cluster.startEtcd();
  }
  const back = Date.now();
  await using _a = older;
  await using _b = newer;
  const closed = await waitFor(() => older.isClosed, {
    timeout: 20_000,
    what: "the older device to be evicted",
  });
  assert.equal(closed.code, 4001);
  const evicted = Date.now() - back;
  // deno-lint-ignore no-console
  console.log(
    `finding 6: older device evicted ${evicted} ms after etcd was back`,
  );
  assert.ok(evicted <= 5500, `evicted ${evicted} ms after etcd was back`);
  assert.equal(newer.isClosed, undefined, "the newer device stays");
});
