/**
 * The etcd ops of one membership txn: what {@link KeySync} hands out (a user
 * to put or delete, or the node record) turned into requests on the node's
 * current lease. Private to `shared/registry/`.
 *
 * @module
 */
import type { IRequestOp } from "etcd3";
import { encodeUserValue } from "./keys.ts";
import type { NodeRecord } from "./registry.ts";
import { bytes, type EtcdContext } from "./_etcd_client.ts";
import { nodePut } from "./_etcd_node_record.ts";
import type { KeySync, SyncOp } from "./_key_sync.ts";

/** The requests of `ops` for `node` on `leaseId`, values from the desired set. */
export function membershipOps(
  ctx: EtcdContext,
  node: NodeRecord,
  leaseId: string,
  desired: KeySync["desired"],
  ops: SyncOp[],
): IRequestOp[] {
  return ops.map((op) => {
    if ("node" in op) return nodePut(ctx, node, leaseId);
    const key = bytes(ctx.keys.user(op.user, node.nodeId));
    if (!op.put) return { request_delete_range: { key } };
    const wanted = desired.get(op.user);
    const value = bytes(encodeUserValue({
      since: wanted?.since ?? Date.now(),
      devices: wanted?.devices ?? [],
    }));
    return { request_put: { key, value, lease: leaseId } };
  });
}
