/**
 * The etcd watch's first listing (`_user_listing.ts`): cut into sub-ranges
 * read in parallel at one revision, decoded from the raw message bytes. It
 * must find exactly what etcd holds, whatever the ids and page size.
 *
 * @module
 */
import assert from "node:assert/strict";
import { silentLogger } from "../../shared/log.ts";
import { EtcdRegistry } from "../../shared/registry/etcd.ts";
import { createEtcdClient } from "../../shared/registry/_etcd_client.ts";
import { listUsers } from "../../shared/registry/_user_listing.ts";
import { RegistryKeys } from "../../shared/registry/keys.ts";
import { startEtcd } from "../../ops/servers/etcd_server.ts";
import { AWKWARD_USERS, nodeRecord } from "../_support/registry_contract.ts";
import { waitFor } from "../_support/until.ts";
import { WatchMirror } from "../_support/watch_mirror.ts";

/** Ids with shared prefixes, escapes and lengths that stress the cuts. */
function users(): string[] {
  const ids = [...AWKWARD_USERS];
  for (let i = 0; i < 600; i++) ids.push(`user-${i}`);
  for (let i = 0; i < 200; i++) ids.push(`${i % 7}-${"z".repeat(i % 13)}${i}`);
  for (let i = 0; i < 50; i++) ids.push(`é-${i}`, `~${i}`, `a%${i}`);
  return ids;
}

Deno.test("etcd listing - pages of 7 keys cut into sub-ranges list every (user, node) pair once", async () => {
  await using etcd = await startEtcd();
  const connect = () =>
    EtcdRegistry.connect({
      endpoints: [etcd.endpoint],
      prefix: "/wsgw",
      leaseTtl: 10,
      log: silentLogger,
      listPageSize: 7,
    });
  await using writer = await connect();
  const ids = users();
  const expected = new Set<string>();
  const nodes = ["n1", "n2", "node-é"];
  for (const [n, nodeId] of nodes.entries()) {
    const node = await writer.join(nodeRecord(nodeId));
    // Every third user on two nodes, so owners of one user span a cut.
    const mine = ids.filter((_, i) => i % 3 === n || (i % 3 === 0 && n === 1));
    await Promise.all(mine.map((user) => node.register(user)));
    for (const user of mine) expected.add(`${user}\n${nodeId}`);
  }
  await using reader = await connect();
  await using mirror = new WatchMirror(reader);
  // Pages of 7 make hundreds of requests: slow on purpose, not a hang.
  await waitFor(() => mirror.resets === 1, {
    timeout: 60_000,
    what: "the first reset",
  });
  const [reset] = mirror.events;
  assert.ok(reset?.type === "reset");
  const seen = reset.users.map(({ user, nodeId }) => `${user}\n${nodeId}`);
  assert.equal(seen.length, expected.size, "no pair listed twice");
  assert.deepEqual(new Set(seen), expected);
  assert.deepEqual(reset.nodes.map((n) => n.nodeId).sort(), nodes.sort());
});

Deno.test("etcd listing - reads at the revision it is given, in parallel sub-ranges", async () => {
  await using etcd = await startEtcd();
  await using writer = await EtcdRegistry.connect({
    endpoints: [etcd.endpoint],
    prefix: "/wsgw",
    leaseTtl: 10,
    log: silentLogger,
  });
  await using node = await writer.join(nodeRecord("n1"));
  await Promise.all(
    Array.from({ length: 500 }, (_, i) => node.register(`u${i}`)),
  );
  const revision = await etcd.revision();
  await Promise.all(
    Array.from({ length: 100 }, (_, i) => node.register(`later${i}`)),
  );
  const client = createEtcdClient([etcd.endpoint], 5000);
  try {
    const listed: string[] = [];
    const requests = await listUsers(
      client,
      new RegistryKeys("/wsgw"),
      revision,
      { pageSize: 20, concurrency: 4, callTimeout: 5000 },
      (user) => listed.push(user),
    );
    assert.equal(listed.length, 500);
    assert.ok(listed.every((user) => /^u\d+$/.test(user)));
    assert.ok(requests > 500 / 20, `${requests} requests`);
  } finally {
    client.close();
  }
});
