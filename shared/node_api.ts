/**
 * What a router asks of a gateway node. The gateway implements {@link NodeApi}
 * in-process and serves it over internal HTTP; the router reaches it through a
 * NodeClient (router/node_client.ts). The router never names a gateway type.
 *
 * Requests are zod schemas with their types derived from them: the gateway
 * checks what it is sent against the same definitions the router compiles
 * against. Answers are plain types; the router checks them by hand
 * (router/node_answers.ts), on the hot path.
 *
 * @module
 */
import { z } from "zod";
import { isOneJsonValue } from "./json_value.ts";

/** Spliced into client frames as is: must be exactly one JSON value. */
const jsonValue = z.string().refine(isOneJsonValue, {
  message: "dataJson must be exactly one JSON value",
});

/** One user of a delivery: where the message sits in that user's history. */
export const DeliverTargetSchema = z.object({
  user: z.string(),
  /** 0: history did not store it. */
  seq: z.number().int().min(0),
  /** The epoch of `seq`; absent with seq 0. */
  epoch: z.string().optional(),
});
export type DeliverTarget = z.infer<typeof DeliverTargetSchema>;

/** One push as handed to one node: the users of it that this node holds. */
export const DeliverRequestSchema = z.object({
  id: z.string(),
  /** The pushed `data`, already serialized as JSON. */
  dataJson: jsonValue,
  ts: z.number(),
  /** Only connections with this device label get it. */
  device: z.string().optional(),
  targets: z.array(DeliverTargetSchema),
});
export type DeliverRequest = z.infer<typeof DeliverRequestSchema>;

/** Connections each target was written to (absent users: 0). */
export type DeliverResult = { devices: Record<string, number> };

/**
 * Body of `POST /internal/deliver-batch`: the deliveries of several pushes to
 * one node, which writes them in this order.
 */
export const DeliverBatchRequestSchema = z.object({
  deliveries: z.array(DeliverRequestSchema),
});
export type DeliverBatchRequest = z.infer<typeof DeliverBatchRequestSchema>;
/** Answer of `POST /internal/deliver-batch`: one result per delivery, in order. */
export type DeliverBatchResult = { results: DeliverResult[] };

/** One message for every connection of a node. */
export const BroadcastRequestSchema = z.object({
  id: z.string(),
  dataJson: jsonValue,
  ts: z.number(),
});
export type BroadcastRequest = z.infer<typeof BroadcastRequestSchema>;
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
export const KickRequestSchema = z.object({
  user: z.string(),
  device: z.string().optional(),
  connId: z.string().optional(),
  reason: z.enum(["disconnected", "evicted"]).optional(),
});
export type KickRequest = z.infer<typeof KickRequestSchema>;
export type KickResult = { closed: number };

/**
 * Users whose stored messages may not have reached this node (a delivery to
 * it failed); each of their connections here looks in history.
 */
export const CatchUpRequestSchema = z.object({
  users: z.array(z.string()).max(100_000),
});
export type CatchUpRequest = z.infer<typeof CatchUpRequestSchema>;
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
