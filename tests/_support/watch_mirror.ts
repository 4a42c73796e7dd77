/**
 * Consumes `Registry.watch()` in the background and applies its events the
 * way a router's route cache does, so tests can wait for a state
 * (`waitFor(() => mirror.has("u", "n1"))`) instead of counting events.
 *
 * @module
 */
import type {
  NodeRecord,
  Registry,
  RegistryEvent,
} from "../../shared/registry/mod.ts";

/** A live copy of the registry built from one watch. */
export class WatchMirror implements AsyncDisposable {
  /** Every event in order, resets included. */
  readonly events: RegistryEvent[] = [];
  readonly nodes = new Map<string, NodeRecord>();
  /** `user` → ids of the nodes holding it. */
  readonly users = new Map<string, Set<string>>();
  /** How many `reset` events arrived. */
  resets = 0;
  readonly #abort = new AbortController();
  readonly #done: Promise<void>;

  constructor(registry: Registry) {
    this.#done = this.#consume(registry);
  }

  /** Node ids holding `user`, sorted. */
  owners(user: string): string[] {
    return [...(this.users.get(user) ?? [])].sort();
  }

  has(user: string, nodeId: string): boolean {
    return this.users.get(user)?.has(nodeId) ?? false;
  }

  /** How many (user, node) pairs the mirror holds. */
  get pairs(): number {
    let count = 0;
    for (const owners of this.users.values()) count += owners.size;
    return count;
  }

  /** Stops the watch; rethrows if the watch itself threw. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.#abort.abort();
    await this.#done;
  }

  async #consume(registry: Registry): Promise<void> {
    for await (const event of registry.watch(this.#abort.signal)) {
      this.events.push(event);
      this.#apply(event);
    }
  }

  #apply(event: RegistryEvent): void {
    switch (event.type) {
      case "reset":
        this.resets++;
        this.nodes.clear();
        this.users.clear();
        for (const node of event.nodes) this.nodes.set(node.nodeId, node);
        for (const { user, nodeId } of event.users) this.#add(user, nodeId);
        break;
      case "node":
        this.nodes.set(event.node.nodeId, event.node);
        break;
      case "node-gone":
        this.nodes.delete(event.nodeId);
        break;
      case "user":
        this.#add(event.user, event.nodeId);
        break;
      case "user-gone": {
        const owners = this.users.get(event.user);
        owners?.delete(event.nodeId);
        if (owners?.size === 0) this.users.delete(event.user);
        break;
      }
    }
  }

  #add(user: string, nodeId: string): void {
    const owners = this.users.get(user) ?? new Set();
    owners.add(nodeId);
    this.users.set(user, owners);
  }
}
