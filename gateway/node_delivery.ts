/**
 * The node's side of deliveries: a push's frame to each target's
 * connections, a broadcast to every connection (once per id), and the
 * catch-ups routers ask for after a delivery failed.
 *
 * @module
 */
import type {
  BroadcastRequest,
  BroadcastResult,
  CatchUpRequest,
  CatchUpResult,
  DeliverRequest,
  DeliverResult,
} from "../shared/node_api.ts";
import { messageFrameJson } from "../shared/protocol.ts";
import type { OrderedFrame } from "./channel_session.ts";
import type { GatewayMetrics } from "./metrics.ts";
import { RecentIds } from "./recent_ids.ts";
import type { SessionManager } from "./session_manager.ts";

/** Writes this many frames before yielding, so sockets start writing (Deno sends when the JS turn ends). */
const FANOUT_CHUNK = 2000;

/** Broadcast ids a node remembers, to write a retried one once. */
const RECENT_BROADCASTS = 1024;

/** What {@link NodeDelivery} works with. */
export type NodeDeliveryOptions = {
  sessions: SessionManager;
  metrics: GatewayMetrics;
  /** A router routed a push of `user` here: it knows this node holds it. */
  routed: (user: string) => void;
  /** Has the connections of `users` look in history (paced by the node). */
  catchUp: (users: Iterable<string>) => void;
  /** Checks the node's send budget now (one broadcast fills every buffer). */
  enforceSendBudget: () => void;
};

/** See the module doc. */
export class NodeDelivery {
  readonly #options: NodeDeliveryOptions;
  /** Broadcast ids written lately: a router's retry does not write one twice. */
  readonly #broadcasts = new RecentIds(RECENT_BROADCASTS);

  constructor(options: NodeDeliveryOptions) {
    this.#options = options;
  }

  /** Hands one push to each target's connections (a device filter applies). */
  async deliver(request: DeliverRequest): Promise<DeliverResult> {
    const { sessions, routed } = this.#options;
    this.#options.metrics.nodeRequests.inc();
    // No prototype: user ids such as "valueOf" or "__proto__" are plain keys.
    const devices: Record<string, number> = Object.create(null);
    let written = 0;
    for (const { user, seq, epoch } of request.targets) {
      const channels = sessions.channels(user);
      let count = 0;
      if (channels.length > 0) {
        routed(user);
        const stored = seq > 0 ? seq : undefined;
        const frame: OrderedFrame = {
          seq: stored,
          epoch: stored === undefined ? undefined : epoch,
          id: request.id,
          ts: request.ts,
          json: messageFrameJson(
            { id: request.id, ts: request.ts, seq: stored },
            request.dataJson,
          ),
        };
        for (const session of [...channels]) {
          if (
            request.device !== undefined &&
            session.info.device !== request.device
          ) {
            continue;
          }
          if (session.deliver(frame)) count++;
        }
        written += count;
        if (written >= FANOUT_CHUNK) {
          written = 0;
          await nextTurn();
        }
      }
      devices[user] = (devices[user] ?? 0) + count;
    }
    return { devices };
  }

  /** Writes one message to every connection of the node, once per id. */
  async broadcast(request: BroadcastRequest): Promise<BroadcastResult> {
    // A retry of a broadcast this node already wrote (the router's request
    // arrived, its answer did not) writes nothing again.
    if (!this.#broadcasts.add(request.id)) return { devices: 0 };
    const frame: OrderedFrame = {
      seq: undefined,
      id: request.id,
      broadcast: true,
      ts: request.ts,
      json: messageFrameJson({ ...request, broadcast: true }, request.dataJson),
    };
    let devices = 0;
    let written = 0;
    for (const session of [...this.#options.sessions.all()]) {
      if (session.deliver(frame)) devices++;
      if (++written % FANOUT_CHUNK === 0) await nextTurn();
    }
    this.#options.enforceSendBudget();
    return { devices };
  }

  /** Makes the connections of the users look in history; counts them. */
  catchUp(request: CatchUpRequest): Promise<CatchUpResult> {
    let sessions = 0;
    for (const user of request.users) {
      sessions += this.#options.sessions.channels(user).length;
    }
    this.#options.catchUp(request.users);
    return Promise.resolve({ sessions });
  }
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
