/**
 * EtcdRegistry against a real etcd: the Registry contract, then what only a
 * distributed backend has to survive (coalescing, lease loss, outages,
 * compaction, big listings).
 *
 * @module
 */
import { silentLogger } from "../../shared/log.ts";
import { EtcdRegistry } from "../../shared/registry/etcd.ts";
import { startEtcd } from "../_support/etcd_server.ts";
import { registryContract } from "../_support/registry_contract.ts";

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
