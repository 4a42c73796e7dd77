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
  type Registry,
  type RegistryEvent,
  RegistryMirror,
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
  /** Node records and user → node ids (`OwnerMap`: 1M users in ~70 MiB). */
  readonly #mirror = new RegistryMirror();
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
    return this.#mirror.owners.pairs;
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
    const owners = this.#mirror.owners.get(user);
    if (owners === undefined) return [];
    const nodes = this.#mirror.nodes;
    if (typeof owners === "string") return nodes.has(owners) ? [owners] : [];
    return owners.filter((nodeId) => nodes.has(nodeId));
  }

  /** The record of a live node. */
  node(nodeId: string): NodeRecord | undefined {
    return this.#mirror.nodes.get(nodeId);
  }

  /** Every live node record, draining ones included. */
  nodes(): NodeRecord[] {
    return [...this.#mirror.nodes.values()];
  }

  /**
   * Applies one registry event; a `reset` replaces everything (and the
   * cache keeps the listing's owner map as it is: no copy of 1M entries).
   */
  apply(event: RegistryEvent): void {
    this.#lastEventAt = Date.now();
    const before = this.#mirror.nodes;
    if (event.type === "node") {
      this.#logNew(before.get(event.node.nodeId), event.node);
    }
    // node-gone: the node's user keys go with its lease and arrive as
    // user-gone events; until then owners() already skips them.
    this.#mirror.apply(event);
    if (event.type !== "reset") return;
    for (const node of event.nodes) this.#logNew(before.get(node.nodeId), node);
    if (!this.#ready) {
      this.#ready = true;
      this.#resolveReady();
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
