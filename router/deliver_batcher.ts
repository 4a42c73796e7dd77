/**
 * Coalesces the deliveries of concurrent pushes to one node into one internal
 * request. Under load the router handles hundreds of pushes per event-loop
 * turn (their history replies arrive together), and each push of a user with
 * devices on every node went to every node: one `fetch` per push and node was
 * most of the router's CPU. A batch is sent at the end of the turn in which
 * its first delivery arrived, so a lone push waits for nothing.
 *
 * @module
 */
import { setImmediate } from "node:timers";
import type { DeliverRequest, DeliverResult } from "../shared/node_api.ts";
import type { NodeRecord } from "../shared/registry/mod.ts";

/** Sends one batch to `node`; must answer one result per request, in order. */
export type SendBatch = (
  node: NodeRecord,
  requests: DeliverRequest[],
) => Promise<DeliverResult[]>;

/** Bounds of one batch. */
export type BatchLimits = {
  /** Deliveries per batch. @default 256 */
  maxRequests?: number;
  /** Characters of `dataJson` per batch; one larger delivery goes alone. @default 1048576 */
  maxBytes?: number;
};

/** Hands one delivery to its node's next batch; settles with that delivery's result. */
export type Deliver = (
  node: NodeRecord,
  request: DeliverRequest,
) => Promise<DeliverResult>;

type Waiter = {
  resolve: (result: DeliverResult) => void;
  reject: (error: unknown) => void;
};

/** The deliveries collected for one node so far. */
class Batch {
  readonly requests: DeliverRequest[] = [];
  readonly waiters: Waiter[] = [];
  bytes = 0;

  constructor(readonly node: NodeRecord) {}
}

/**
 * Creates a {@link Deliver} that batches per node (by id and internal URL, so
 * a restarted node on a new port gets its own batch). A batch holds its
 * deliveries in call order, and batches are handed to `send` in the order
 * they were started; when a batch fails, every delivery in it fails with the
 * same error.
 */
export function createDeliverBatcher(
  send: SendBatch,
  limits: BatchLimits = {},
): Deliver {
  const maxRequests = limits.maxRequests ?? 256;
  const maxBytes = limits.maxBytes ?? 1 << 20;
  const open = new Map<string, Batch>();

  const flush = (key: string, batch: Batch) => {
    if (open.get(key) === batch) open.delete(key);
    send(batch.node, batch.requests).then(
      (results) =>
        batch.waiters.forEach(({ resolve }, i) => resolve(results[i]!)),
      (error) => batch.waiters.forEach(({ reject }) => reject(error)),
    );
  };

  return (node, request) => {
    const key = `${node.nodeId} ${node.internalUrl}`;
    const bytes = request.dataJson.length;
    let batch = open.get(key);
    if (batch && batch.bytes + bytes > maxBytes) {
      flush(key, batch);
      batch = undefined;
    }
    if (!batch) {
      const fresh = new Batch(node);
      open.set(key, fresh);
      setImmediate(() => {
        if (open.get(key) === fresh) flush(key, fresh);
      });
      batch = fresh;
    }
    const result = new Promise<DeliverResult>((resolve, reject) =>
      batch.waiters.push({ resolve, reject })
    );
    batch.requests.push(request);
    batch.bytes += bytes;
    if (batch.requests.length >= maxRequests) flush(key, batch);
    return result;
  };
}
