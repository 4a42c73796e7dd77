/**
 * What a router asks of a gateway node. The gateway implements {@link NodeApi}
 * in-process and serves it over internal HTTP; the router reaches it through a
 * NodeClient (router/node_client.ts). The router never names a gateway type.
 *
 * @module
 */

/** One push as handed to one node: the users of it that this node holds. */
export type DeliverRequest = {
  id: string;
  /** The pushed `data`, already serialized as JSON. */
  dataJson: string;
  ts: number;
  /** Only connections with this device label get it. */
  device?: string;
  /**
   * Each user with the seq its history assigned and the epoch of that seq
   * (seq 0 and no epoch when history did not store it).
   */
  targets: DeliverTarget[];
};

/** One user of a delivery: where the message sits in that user's history. */
export type DeliverTarget = { user: string; seq: number; epoch?: string };

/** Connections each target was written to (absent users: 0). */
export type DeliverResult = { devices: Record<string, number> };

/**
 * Body of `POST /internal/deliver-batch`: the deliveries of several pushes to
 * one node, which writes them in this order.
 */
export type DeliverBatchRequest = { deliveries: DeliverRequest[] };
/** Answer of `POST /internal/deliver-batch`: one result per delivery, in order. */
export type DeliverBatchResult = { results: DeliverResult[] };

export type BroadcastRequest = { id: string; dataJson: string; ts: number };
export type BroadcastResult = { devices: number };

/** One connection of a user, as presence shows it. */
export type DeviceInfo = {
  connId: string;
  nodeId: string;
  device: string | null;
  connectedAt: number;
  /** The peer address of the socket as the node saw it (a balancer's, behind one). */
  remoteAddress?: string;
};

/**
 * Which connections of a user to close: all, one device label, or one
 * connection; with 4003 (disconnected, the default) or 4001 (evicted by the
 * cluster-wide device limit).
 */
export type KickRequest = {
  user: string;
  device?: string;
  connId?: string;
  reason?: "disconnected" | "evicted";
};
export type KickResult = { closed: number };

/**
 * Users whose stored messages may not have reached this node (a delivery to
 * it failed); each of their connections here looks in history.
 */
export type CatchUpRequest = { users: string[] };
/** Connections that looked in history. */
export type CatchUpResult = { sessions: number };

/** A node's own view of itself (`GET /v1/nodes`). */
export type NodeStats = {
  nodeId: string;
  connections: number;
  users: number;
  draining: boolean;
  startedAt: number;
  /** The node's release (shared/version.ts). */
  version?: string;
  /**
   * The registry lease the node's keys hang on: its id (none in memory) and
   * whether keep-alives are answered; absent before the node joins.
   */
  lease?: { id: string | null; healthy: boolean };
  /** Counts since the node started, for rates (the operator console). */
  counters?: NodeCounters;
};

/** Running totals of a node since it started. */
export type NodeCounters = {
  /** WebSocket connections accepted. */
  connects: number;
  /** Connections that ended, for any reason. */
  closes: number;
  /** Message frames written to sockets. */
  deliveries: number;
};

/** The operations a gateway node offers to routers. */
export interface NodeApi {
  /** Writes one message to every connection of each target; never throws for an absent user. */
  deliver(request: DeliverRequest): Promise<DeliverResult>;
  /** Writes one message to every connection on the node. */
  broadcast(request: BroadcastRequest): Promise<BroadcastResult>;
  /** Connections of `user` on this node, oldest first; `[]` when none. */
  presence(user: string): Promise<DeviceInfo[]>;
  /** Closes the user's connections as the request says; `closed` counts them. */
  kick(request: KickRequest): Promise<KickResult>;
  /** Makes each connection of the users look in history for what it missed. */
  catchUp(request: CatchUpRequest): Promise<CatchUpResult>;
  stats(): Promise<NodeStats>;
}
