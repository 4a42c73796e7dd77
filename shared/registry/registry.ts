/**
 * The registration center seam: which gateway nodes hold which users.
 * Backends: {@link MemoryRegistry} (embedded, unit tests), EtcdRegistry.
 *
 * @module
 */
import type { OwnerMap } from "./owner_map.ts";

/** A gateway node as recorded under `<prefix>/nodes/<nodeId>`. */
export type NodeRecord = {
  nodeId: string;
  /** Public URL: clients connect to `<url>/ws`. */
  url: string;
  /** Where routers reach the node-internal API. */
  internalUrl: string;
  startedAt: number;
  draining: boolean;
};

/** One connection of a user, as its node records it. */
export type DeviceRef = { connId: string; connectedAt: number };

/** A connection of a user somewhere in the cluster. */
export type NodeDevice = DeviceRef & { nodeId: string };

/** A change seen by {@link Registry.watch}. */
export type RegistryEvent =
  /** The full state; replaces everything seen before (first event, and after a re-list). */
  | {
    type: "reset";
    nodes: NodeRecord[];
    /**
     * user → node id(s) (`owner_map.ts`). Each listing makes its own map,
     * and the consumer may keep and change it (a router adopts it as is).
     */
    owners: OwnerMap;
    /** The same pairs as a list, built on first read (tests, tools). */
    readonly users: { user: string; nodeId: string }[];
  }
  | { type: "node"; node: NodeRecord }
  | { type: "node-gone"; nodeId: string }
  | { type: "user"; user: string; nodeId: string }
  | { type: "user-gone"; user: string; nodeId: string };

/** Read side of the registry (routers, ctl) plus the way in for a node. */
export interface Registry extends AsyncDisposable {
  /** Ids of the nodes holding `user`; `[]` when the user is offline. */
  owners(user: string): Promise<string[]>;
  /**
   * Every connection of `user` the nodes have recorded, across the cluster;
   * `[]` when the user is offline. What the cluster-wide device limit counts.
   */
  devices(user: string): Promise<NodeDevice[]>;
  /** Every live node record. */
  nodes(): Promise<NodeRecord[]>;
  /**
   * A `reset` with the full listing, then live changes in order. Lists again
   * (another `reset`) after a compacted revision or a lost watch. Ends when
   * `signal` aborts.
   */
  watch(signal: AbortSignal): AsyncIterable<RegistryEvent>;
  /**
   * Records a node under a lease and returns its membership.
   *
   * @throws {NodeIdTakenError} when the node id is held by a live node.
   */
  join(node: NodeRecord): Promise<NodeMembership>;
  /** Resolves when the backend answers; rejects when it cannot be reached. */
  ping(): Promise<void>;
}

/** One node's presence in the registry; disposing it leaves (revokes the lease). */
export interface NodeMembership extends AsyncDisposable {
  readonly nodeId: string;
  /**
   * Records that `user` has connections on this node, and which (`devices`
   * replaces what was recorded before). Idempotent; resolves once stored.
   */
  register(user: string, devices?: readonly DeviceRef[]): Promise<void>;
  /** Unregistering a user this node does not hold is not an error. */
  unregister(user: string): Promise<void>;
  /** Updates the `draining` flag of the node record. */
  setDraining(draining: boolean): Promise<void>;
  /** True while the registry is known to hold this node's keys. */
  readonly healthy: boolean;
  /** The lease the node's keys are attached to now; absent without leases (memory). */
  readonly leaseId?: string;
  /**
   * Calls `listener` each time the node's keys are back after the registry
   * lost them (a lease lost, regranted, and every user written again):
   * pushes stored meanwhile reached no connection here. Returns a function
   * that removes the listener.
   */
  onRestored(listener: () => void): () => void;
  /** Removes the node record and every user key of this node at once. */
  leave(): Promise<void>;
}
