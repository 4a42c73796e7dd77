/**
 * The device limit over the whole cluster (`WSGW_MAX_DEVICES` counts a
 * user's connections on all nodes together): after a node records a new
 * connection, it reads every node's record of the user and closes the
 * oldest connections past the limit with 4001, its own directly and other
 * nodes' through their internal API.
 *
 * Two nodes checking at once both see at least each other's record (each
 * writes before it reads), so they pick the same oldest connections.
 *
 * @module
 */
import type { InternalUrlPolicy } from "../shared/internal_url_policy.ts";
import { callInternal } from "../shared/internal_call.ts";
import type { Logger } from "../shared/log.ts";
import type { KickRequest } from "../shared/node_api.ts";
import type {
  NodeDevice,
  NodeRecord,
  Registry,
} from "../shared/registry/mod.ts";

/** Milliseconds a peer node has to answer an eviction. */
const PEER_TIMEOUT_MS = 2000;

/** What the limit needs from its node. */
export type DeviceLimitOptions = {
  nodeId: string;
  maxDevices: number;
  registry: Registry;
  /** Closes one of this node's connections with 4001. */
  evictLocal: (user: string, connId: string) => void;
  /** Secret of the node-internal API of the other nodes. */
  internalSecret: string;
  /** Internal URLs the secret may be sent to; absent: any. */
  urlPolicy?: InternalUrlPolicy;
  log: Logger;
  /** Counts each connection evicted, here or on a peer. */
  onEvict?: () => void;
};

/** Enforces the cluster-wide device limit for one node. */
export class DeviceLimit {
  readonly #options: DeviceLimitOptions;

  constructor(options: DeviceLimitOptions) {
    this.#options = options;
  }

  /** Closes the user's oldest connections past the limit, wherever they are. */
  async enforce(user: string): Promise<void> {
    const { registry, maxDevices, nodeId } = this.#options;
    const devices = await registry.devices(user);
    if (devices.length <= maxDevices) return;
    const excess = oldestFirst(devices).slice(0, devices.length - maxDevices);
    let nodes: Map<string, NodeRecord> | undefined;
    await Promise.all(excess.map(async (device) => {
      this.#options.onEvict?.();
      if (device.nodeId === nodeId) {
        this.#options.evictLocal(user, device.connId);
        return;
      }
      nodes ??= new Map((await registry.nodes()).map((n) => [n.nodeId, n]));
      const node = nodes.get(device.nodeId);
      if (node) await this.#evictRemote(node, user, device.connId);
    }));
  }

  async #evictRemote(
    node: NodeRecord,
    user: string,
    connId: string,
  ): Promise<void> {
    const body: KickRequest = { user, connId, reason: "evicted" };
    const refusal = this.#options.urlPolicy?.refusal(node.internalUrl);
    if (refusal !== undefined) {
      this.#options.log.warn("peer eviction refused", {
        peer: node.nodeId,
        reason: `internal URL refused (WSGW_INTERNAL_NETWORKS): ${refusal}`,
      });
      return;
    }
    try {
      await callInternal(node, "/internal/kick", body, {
        secret: this.#options.internalSecret,
        signal: AbortSignal.timeout(PEER_TIMEOUT_MS),
        timeoutMs: PEER_TIMEOUT_MS,
      });
    } catch (error) {
      this.#options.log.warn("peer eviction failed", {
        peer: node.nodeId,
        error,
      });
    }
  }
}

/** Oldest connection first; ties broken by id so every node picks alike. */
function oldestFirst(devices: NodeDevice[]): NodeDevice[] {
  return [...devices].sort((a, b) =>
    a.connectedAt - b.connectedAt ||
    (a.connId < b.connId ? -1 : a.connId > b.connId ? 1 : 0)
  );
}
