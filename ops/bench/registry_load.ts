// deno-lint-ignore-file no-console
/**
 * Registry load figures on a real etcd:
 *
 * 1. one membership registers N users (coalesced txns): time and txn count,
 *    then the same for unregistering them;
 * 2. `watch()` on a prefix holding K user keys (bulk-loaded in 128-op txns):
 *    time to the first `reset`, a few runs;
 * 3. a node holding N users leaves: time until a watcher has seen every key go;
 * 4. a node holding N users loses its lease (revoked behind its back): time
 *    from the loss being noticed until every key is back on a new lease, and
 *    from the revoke;
 * 5. a storm's registrations: 3 nodes register N users at once while a
 *    route cache watches: when the last registration landed, and when the
 *    cache held them all (what a router lags behind a reconnect storm).
 *
 * Usage: `deno run -A ops/bench/registry_load.ts [--users 10000]
 * [--keys 100000] [--runs 3] [--page 10000] [--etcd http://127.0.0.1:2379]`
 * (`--page`: keys per range request when listing). Without
 * `--etcd` it starts its own etcd in a temp dir (binaries on PATH). Prints
 * one line per figure, then the figures as JSON.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { deadline } from "../../shared/deadline.ts";
import { createLogger, silentLogger } from "../../shared/log.ts";
import { Etcd3 } from "etcd3";
import { EtcdRegistry } from "../../shared/registry/etcd.ts";
import type { RegistryEvent } from "../../shared/registry/mod.ts";
import { bulkLoadUsers } from "../servers/etcd_bulk.ts";
import { startEtcd } from "../servers/etcd_server.ts";
import { nodeRecord } from "../servers/etcd_bulk.ts";
import { RouteCache } from "../../router/route_cache.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    users: { type: "string", default: "10000" },
    keys: { type: "string", default: "100000" },
    runs: { type: "string", default: "3" },
    page: { type: "string", default: "10000" },
    etcd: { type: "string" },
  },
});
const users = Number(values.users);
const keys = Number(values.keys);
const runs = Number(values.runs);
const listPageSize = Number(values.page);

await using own = values.etcd === undefined ? await startEtcd() : undefined;
// Ctrl-C must not leave our etcd running.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, () => {
    (own ? own.stop() : Promise.resolve()).finally(() => Deno.exit(130));
  });
}
const endpoint = values.etcd ?? own!.endpoint;
const connect = (prefix: string) =>
  EtcdRegistry.connect({
    endpoints: [endpoint],
    prefix,
    leaseTtl: 10,
    log: silentLogger,
    listPageSize,
  });
const figures: Record<string, unknown> = {
  endpoint,
  users,
  keys,
  listPageSize,
};
const ms = (start: number) => Math.round(performance.now() - start);

// 1. One membership registers N users, then unregisters them.
{
  await using registry = await connect("/bench-register");
  await using node = await registry.join(nodeRecord("bench-node"));
  const ids = Array.from({ length: users }, (_, i) => `user-${i}`);
  let start = performance.now();
  await Promise.all(ids.map((user) => node.register(user)));
  const register = { ms: ms(start), txns: registry.stats.txns };
  start = performance.now();
  await Promise.all(ids.map((user) => node.unregister(user)));
  const unregister = {
    ms: ms(start),
    txns: registry.stats.txns - register.txns,
  };
  figures.register = register;
  figures.unregister = unregister;
  console.log(
    `register ${users} users: ${register.ms} ms in ${register.txns} txns; ` +
      `unregister: ${unregister.ms} ms in ${unregister.txns} txns`,
  );
}

// 2. First reset of a watch on K keys.
{
  let start = performance.now();
  const txns = await bulkLoadUsers(endpoint, {
    prefix: "/bench-watch",
    count: keys,
  });
  figures.bulkLoad = { ms: ms(start), txns };
  console.log(`bulk load ${keys} user keys: ${ms(start)} ms in ${txns} txns`);
  await using registry = await connect("/bench-watch");
  const resets: number[] = [];
  for (let run = 0; run < runs; run++) {
    const abort = new AbortController();
    start = performance.now();
    let first: RegistryEvent | undefined;
    for await (const event of registry.watch(abort.signal)) {
      first = event;
      break;
    }
    resets.push(ms(start));
    abort.abort();
    if (first?.type !== "reset" || first.users.length !== keys) {
      throw new Error(
        `expected a reset with ${keys} users, got ${first?.type}`,
      );
    }
  }
  figures.firstReset = { ms: resets };
  console.log(`first reset of ${keys} keys: ${resets.join(", ")} ms`);
}

// 3. A node holding N users leaves: how long until a watcher saw it all.
{
  await using registry = await connect("/bench-leave");
  await using watcher = await connect("/bench-leave");
  const node = await registry.join(nodeRecord("leaving"));
  await Promise.all(
    Array.from({ length: users }, (_, i) => node.register(`user-${i}`)),
  );
  const abort = new AbortController();
  let held = 0;
  let start = 0;
  let restarted = false;
  const seen = new Promise<void>((resolve, reject) => {
    (async () => {
      for await (const event of watcher.watch(abort.signal)) {
        // A reset after the leave (the watch listed again) counts too.
        if (event.type === "reset") held = event.users.length;
        if (event.type === "user-gone") held--;
        if (start > 0 && held === 0) {
          if (event.type === "reset") restarted = true;
          return resolve();
        }
      }
    })().catch(reject);
  });
  while (held < users) await new Promise((r) => setTimeout(r, 10));
  start = performance.now();
  await node.leave();
  const revoke = ms(start);
  await deadline(seen, 120_000, "the watcher to see the leave");
  const all = ms(start);
  abort.abort();
  figures.leave = { revokeMs: revoke, watcherMs: all, restarted };
  console.log(
    `leave with ${users} users: revoke ${revoke} ms, watcher saw all gone ` +
      `after ${all} ms${restarted ? " (through a re-list)" : ""}`,
  );
}

// 4. A node holding N users loses its lease: how long until all are back.
{
  let regranted: (ms: number) => void;
  const done = new Promise<number>((resolve) => regranted = resolve);
  await using registry = await EtcdRegistry.connect({
    endpoints: [endpoint],
    prefix: "/bench-regrant",
    leaseTtl: 10,
    listPageSize,
    log: createLogger({
      level: "info",
      write: (line) => {
        const entry = JSON.parse(line) as { event: string; ms?: number };
        if (entry.event === "lease regranted") regranted(entry.ms ?? -1);
      },
    }),
  });
  await using node = await registry.join(nodeRecord("regrant"));
  await Promise.all(
    Array.from({ length: users }, (_, i) => node.register(`user-${i}`)),
  );
  const txnsBefore = registry.stats.txns;
  const start = performance.now();
  await using etcdClient = {
    client: new Etcd3({ hosts: [endpoint] }),
    [Symbol.asyncDispose]() {
      this.client.close();
      return Promise.resolve();
    },
  };
  await etcdClient.client.leaseClient.leaseRevoke({ ID: node.leaseId });
  const rewriteMs = await deadline(done, 120_000, "the regrant");
  const fromRevoke = ms(start);
  figures.regrant = {
    users,
    rewriteMs,
    fromRevokeMs: fromRevoke,
    txns: registry.stats.txns - txnsBefore,
  };
  console.log(
    `lease loss with ${users} users: all keys back ${rewriteMs} ms after the ` +
      `loss was noticed (${fromRevoke} ms after the revoke, ` +
      `${registry.stats.txns - txnsBefore} txns)`,
  );
}

// 5. A burst of registrations on 3 nodes while a route cache watches.
{
  await using registry = await connect("/bench-storm");
  await using watcher = await connect("/bench-storm");
  await using routes = new RouteCache({ registry: watcher, log: silentLogger });
  routes.start();
  await routes.ready;
  const nodes = await Promise.all(
    [0, 1, 2].map((n) => registry.join(nodeRecord(`storm-${n}`))),
  );
  const start = performance.now();
  await Promise.all(
    Array.from(
      { length: users },
      (_, i) => nodes[i % 3]!.register(`user-${i}`),
    ),
  );
  const landedMs = ms(start);
  while (routes.size < users) await new Promise((r) => setTimeout(r, 5));
  const seenMs = ms(start);
  figures.storm = {
    users,
    landedMs,
    seenMs,
    perSec: Math.round(users / (seenMs / 1000)),
  };
  console.log(
    `burst of ${users} registrations on 3 nodes: landed after ${landedMs} ms, ` +
      `all in the route cache after ${seenMs} ms`,
  );
  for (const node of nodes) await node.leave();
}

console.log(JSON.stringify(figures));
