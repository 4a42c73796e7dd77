/**
 * The router's in-memory mirror of the registry: which nodes are live and
 * which nodes hold which users, kept current by `Registry.watch`. Lookups are
 * synchronous so a push never waits on etcd.
 *
 * @module
 */
import { sleep } from "../shared/sleep.ts";
import type { Logger } from "../shared/log.ts";
import {
  type NodeRecord,
  OwnerMap,
  type Registry,
  type RegistryEvent,
} from "../shared/registry/mod.ts";

/** Options of {@link RouteCache}. */
export type RouteCacheOptions = {
  registry: Registry;
  log: Logger;
  /** First wait before restarting a failed watch, in ms. @default 100 */
  minBackoffMs?: number;
  /** Longest wait between watch restarts, in ms. @default 5000 */
  maxBackoffMs?: number;
};

/**
 * Mirrors node records and user → node ids from {@link Registry.watch}.
 *
 * @example
 * ```ts
 * await using routes = new RouteCache({ registry, log });
 * routes.start();
 * await routes.ready;
 * routes.owners("alice"); // ["node-1"]
 * ```
 */
export class RouteCache implements AsyncDisposable {
  readonly #registry: Registry;
  readonly #log: Logger;
  readonly #minBackoffMs: number;
  readonly #maxBackoffMs: number;
  readonly #abort = new AbortController();
  #nodes = new Map<string, NodeRecord>();
  /**
   * user → its node id, or ids when several nodes hold it. Almost every
   * user has one node: a bare (interned) string instead of a Set per user
   * is what lets 1M users fit in ~100 MiB.
   */
  #users = new OwnerMap();
  #ready = false;
  #lastEventAt = 0;
  #resolveReady!: () => void;
  #loop: Promise<void> | undefined;

  /** Resolves once the first full listing (`reset`) has been applied. */
  readonly ready: Promise<void>;

  constructor(options: RouteCacheOptions) {
    this.#registry = options.registry;
    this.#log = options.log;
    this.#minBackoffMs = options.minBackoffMs ?? 100;
    this.#maxBackoffMs = options.maxBackoffMs ?? 5000;
    this.ready = new Promise((resolve) => this.#resolveReady = resolve);
  }

  /** True once the first full listing has been applied. */
  get isReady(): boolean {
    return this.#ready;
  }

  /** Number of (user, node) pairs mirrored, including those of unknown nodes. */
  get size(): number {
    return this.#users.pairs;
  }

  /** `Date.now()` of the last event applied (a listing counts), 0 before any. */
  get lastEventAt(): number {
    return this.#lastEventAt;
  }

  /** Starts following the registry; calling it again does nothing. */
  start(): void {
    this.#loop ??= this.#run();
  }

  /** Ids of the live nodes holding `user`; `[]` when offline. Owners without a node record are left out. */
  owners(user: string): string[] {
    const owners = this.#users.get(user);
    if (owners === undefined) return [];
    if (typeof owners === "string") {
      return this.#nodes.has(owners) ? [owners] : [];
    }
    return owners.filter((nodeId) => this.#nodes.has(nodeId));
  }

  /** The record of a live node. */
  node(nodeId: string): NodeRecord | undefined {
    return this.#nodes.get(nodeId);
  }

  /** Every live node record, draining ones included. */
  nodes(): NodeRecord[] {
    return [...this.#nodes.values()];
  }

  /** Applies one registry event; a `reset` replaces everything. */
  apply(event: RegistryEvent): void {
    this.#lastEventAt = Date.now();
    switch (event.type) {
      case "reset": {
        const before = this.#nodes;
        this.#nodes = new Map(event.nodes.map((node) => [node.nodeId, node]));
        for (const node of event.nodes) {
          this.#logNew(before.get(node.nodeId), node);
        }
        // The listing's map is ours to keep: no copy of 1M entries.
        this.#users = event.owners;
        if (!this.#ready) {
          this.#ready = true;
          this.#resolveReady();
        }
        break;
      }
      case "node":
        this.#logNew(this.#nodes.get(event.node.nodeId), event.node);
        this.#nodes.set(event.node.nodeId, event.node);
        break;
      case "node-gone":
        // The node's user keys go with its lease and arrive as user-gone
        // events; until then owners() already skips them.
        this.#nodes.delete(event.nodeId);
        break;
      case "user":
        this.#users.add(event.user, event.nodeId);
        break;
      case "user-gone":
        this.#users.remove(event.user, event.nodeId);
        break;
    }
  }

  /** Stops the watch and waits for it to end. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.#abort.abort();
    await this.#loop;
  }

  /** Says so when a node appears or moves: routers will send it pushes. */
  #logNew(before: NodeRecord | undefined, node: NodeRecord): void {
    if (before?.internalUrl === node.internalUrl) return;
    this.#log.info(before ? "node moved" : "node entered the route cache", {
      nodeId: node.nodeId,
      internalUrl: node.internalUrl,
    });
  }

  /** Follows the watch; restarts it with backoff when it fails or ends. */
  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    let backoff = this.#minBackoffMs;
    while (!signal.aborted) {
      try {
        for await (const event of this.#registry.watch(signal)) {
          this.apply(event);
          // A listing means the watch works again.
          if (event.type === "reset") backoff = this.#minBackoffMs;
        }
        if (signal.aborted) return;
        this.#log.warn("registry watch ended, restarting", {
          retryInMs: backoff,
        });
      } catch (error) {
        if (signal.aborted) return;
        this.#log.warn("registry watch failed, restarting", {
          error,
          retryInMs: backoff,
        });
      }
      await sleep(jittered(backoff), signal);
      backoff = Math.min(backoff * 2, this.#maxBackoffMs);
    }
  }
}

/** `ms` with ±20% jitter, so replicas do not re-list in step. */
function jittered(ms: number): number {
  return ms * (0.8 + Math.random() * 0.4);
}
