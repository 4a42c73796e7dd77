/**
 * Writes of a node record (`<prefix>/nodes/<nodeId>`): created only when
 * absent, moved to a new lease only from our own old one, so two processes
 * configured with one node id never overwrite each other. Private to
 * `shared/registry/`.
 *
 * @module
 */
import { CompareResult, CompareTarget, type IRequestOp } from "etcd3";
import type { NodeRecord } from "./registry.ts";
import { bytes, type EtcdContext, unavailable } from "./_etcd_client.ts";
import { grantLease, revokeLease } from "./_etcd_lease.ts";
import { NodeIdTakenError } from "./errors.ts";

/** The put of `node`'s record on `leaseId`, as one txn op. */
export function nodePut(
  ctx: EtcdContext,
  node: NodeRecord,
  leaseId: string,
): IRequestOp {
  return {
    request_put: {
      key: bytes(ctx.keys.node(node.nodeId)),
      value: bytes(ctx.records.encode(node)),
      lease: leaseId,
    },
  };
}

/** Creates the record on `leaseId`; false when the node key already exists. */
export async function createNodeRecord(
  ctx: EtcdContext,
  node: NodeRecord,
  leaseId: string,
): Promise<boolean> {
  const answer = await ctx.client.kv.txn({
    compare: [{
      key: bytes(ctx.keys.node(node.nodeId)),
      target: CompareTarget.Create,
      result: CompareResult.Equal,
      create_revision: 0,
    }],
    success: [nodePut(ctx, node, leaseId)],
  });
  return answer.succeeded;
}

/**
 * Puts the record on a new lease after a lease loss: creates it if it expired
 * with the old lease, or moves it if it still sits on `oldLease` (the lease
 * was alive after all).
 *
 * @throws {NodeIdTakenError} when another process created the record meanwhile.
 */
export async function moveNodeRecord(
  ctx: EtcdContext,
  node: NodeRecord,
  leaseId: string,
  oldLease: string,
): Promise<void> {
  if (await createNodeRecord(ctx, node, leaseId)) return;
  const answer = await ctx.client.kv.txn({
    compare: [{
      key: bytes(ctx.keys.node(node.nodeId)),
      target: CompareTarget.Lease,
      result: CompareResult.Equal,
      lease: oldLease,
    }],
    success: [nodePut(ctx, node, leaseId)],
  });
  if (!answer.succeeded) throw new NodeIdTakenError(node.nodeId);
}

/**
 * Grants a lease and creates `node`'s record on it; the lease id.
 *
 * @throws {NodeIdTakenError} when the node key exists (the lease is revoked).
 * @throws {RegistryUnavailableError} when etcd does not answer.
 */
export async function joinWithRecord(
  ctx: EtcdContext,
  node: NodeRecord,
  leaseTtl: number,
): Promise<string> {
  let leaseId: string;
  try {
    leaseId = await grantLease(ctx, leaseTtl);
  } catch (error) {
    unavailable("lease grant", error);
  }
  let created: boolean;
  try {
    created = await createNodeRecord(ctx, node, leaseId);
  } catch (error) {
    await revokeLease(ctx, leaseId);
    unavailable("join", error);
  }
  if (!created) {
    await revokeLease(ctx, leaseId);
    throw new NodeIdTakenError(node.nodeId);
  }
  return leaseId;
}

/**
 * One attempt at a new lease after a loss: grants it and moves the record
 * onto it. `undefined` (the new lease revoked) when `wanted()` turned false
 * meanwhile, e.g. the node left.
 *
 * @throws whatever etcd answered; the new lease is revoked first.
 */
export async function regrantRecord(
  ctx: EtcdContext,
  node: NodeRecord,
  leaseTtl: number,
  oldLease: string,
  wanted: () => boolean,
): Promise<string | undefined> {
  let leaseId: string | undefined;
  try {
    leaseId = await grantLease(ctx, leaseTtl);
    if (wanted()) await moveNodeRecord(ctx, node, leaseId, oldLease);
    if (!wanted()) {
      void revokeLease(ctx, leaseId);
      return undefined;
    }
    return leaseId;
  } catch (error) {
    if (leaseId !== undefined) void revokeLease(ctx, leaseId);
    throw error;
  }
}
