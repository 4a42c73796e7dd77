/**
 * A gateway node's registry side in its own process, so a test can kill it
 * with SIGKILL and watch its lease expire. Usage:
 * `deno run -A registry_node_child.ts <endpoint> <prefix> <nodeId> <ttl> <users>`;
 * prints `ready` once every user is registered, then idles until killed.
 *
 * @module
 */
import { EtcdRegistry } from "../../shared/registry/etcd.ts";
import { silentLogger } from "../../shared/log.ts";
import { nodeRecord } from "./registry_contract.ts";

const [endpoint, prefix, nodeId, ttl, users] = Deno.args;
if (!endpoint || !prefix || !nodeId || !ttl || !users) {
  throw new TypeError(
    "usage: registry_node_child.ts <endpoint> <prefix> <nodeId> <ttl> <users>",
  );
}
const registry = await EtcdRegistry.connect({
  endpoints: [endpoint],
  prefix,
  leaseTtl: Number(ttl),
  log: silentLogger,
});
const node = await registry.join(nodeRecord(nodeId));
await Promise.all(
  Array.from({ length: Number(users) }, (_, i) => node.register(`child-${i}`)),
);
await Deno.stdout.write(new TextEncoder().encode("ready\n"));
// The lease keep-alive timers keep this process alive until it is killed.
