/**
 * Users whose stored messages may not have reached a node: a delivery to it
 * failed (timeout, refused connection, a network partition). History holds
 * the messages, but an open connection only looks there when a later push
 * shows it a gap, and none may come. So the router remembers the users per
 * node and, until the node answers, keeps asking it (with backoff) to make
 * their connections look in history (`POST /internal/catch-up`). A node that
 * leaves the route cache is forgotten: its clients reconnect elsewhere and
 * resume from history.
 *
 * @module
 */
import type { Logger } from "../shared/log.ts";
import type { NodeRecord } from "../shared/registry/mod.ts";
import type { NodeClient } from "./node_client.ts";

/** Options of {@link MissedDeliveries}. */
export type MissedDeliveriesOptions = {
  nodes: NodeClient;
  /** The node's current record; undefined once it left the cluster. */
  node: (nodeId: string) => NodeRecord | undefined;
  log: Logger;
  /** Milliseconds before the first ask, doubling on failure. @default 250 */
  retryMs?: number;
  /** Longest wait between two asks. @default 5000 */
  maxRetryMs?: number;
  /** Users remembered per node; past it the oldest are dropped (and counted). @default 100000 */
  maxUsers?: number;
  /** Users per catch-up request. @default 5000 */
  batch?: number;
};

type Pending = {
  users: Set<string>;
  timer: ReturnType<typeof setTimeout> | undefined;
  failures: number;
  dropped: number;
};

/** See the module doc. */
export class MissedDeliveries implements Disposable {
  readonly #options: MissedDeliveriesOptions;
  readonly #pending = new Map<string, Pending>();

  constructor(options: MissedDeliveriesOptions) {
    this.#options = options;
  }

  /** Users waiting for a catch-up, over all nodes. */
  get size(): number {
    let total = 0;
    for (const pending of this.#pending.values()) total += pending.users.size;
    return total;
  }

  /** Remembers that deliveries of `users` to `nodeId` failed. */
  add(nodeId: string, users: Iterable<string>): void {
    let pending = this.#pending.get(nodeId);
    if (!pending) {
      pending = { users: new Set(), timer: undefined, failures: 0, dropped: 0 };
      this.#pending.set(nodeId, pending);
    }
    const max = this.#options.maxUsers ?? 100_000;
    for (const user of users) {
      pending.users.delete(user);
      pending.users.add(user);
      if (pending.users.size > max) {
        pending.users.delete(pending.users.values().next().value!);
        pending.dropped++;
      }
    }
    this.#schedule(nodeId, pending);
  }

  [Symbol.dispose](): void {
    for (const pending of this.#pending.values()) clearTimeout(pending.timer);
    this.#pending.clear();
  }

  #schedule(nodeId: string, pending: Pending): void {
    if (pending.timer !== undefined) return;
    const { retryMs = 250, maxRetryMs = 5000 } = this.#options;
    const delay = Math.min(retryMs * 2 ** pending.failures, maxRetryMs);
    pending.timer = setTimeout(() => void this.#ask(nodeId, pending), delay);
    Deno.unrefTimer(pending.timer);
  }

  async #ask(nodeId: string, pending: Pending): Promise<void> {
    pending.timer = undefined;
    const node = this.#options.node(nodeId);
    if (!node) {
      this.#pending.delete(nodeId);
      return;
    }
    const users = [...pending.users].slice(0, this.#options.batch ?? 5000);
    try {
      await this.#options.nodes.for(node).catchUp({ users });
    } catch (error) {
      pending.failures++;
      if (pending.failures === 1) {
        this.#options.log.warn("node unreachable: its users' catch-up waits", {
          nodeId,
          users: pending.users.size,
          error,
        });
      }
      if (this.#pending.get(nodeId) === pending) {
        this.#schedule(nodeId, pending);
      }
      return;
    }
    for (const user of users) pending.users.delete(user);
    if (pending.failures > 0 || pending.dropped > 0) {
      this.#options.log.info("node reachable again: its users caught up", {
        nodeId,
        users: users.length,
        ...(pending.dropped > 0 ? { dropped: pending.dropped } : {}),
      });
    }
    pending.failures = 0;
    pending.dropped = 0;
    if (pending.users.size > 0) this.#schedule(nodeId, pending);
    else if (this.#pending.get(nodeId) === pending) {
      this.#pending.delete(nodeId);
    }
  }
}
