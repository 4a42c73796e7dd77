/**
 * In-memory registry: the embedded default and the unit-test backend. Several
 * MemoryRegistry handles may share one {@link MemoryRegistryStore} to model
 * several nodes in one process.
 *
 * @module
 */
import type {
  DeviceRef,
  NodeDevice,
  NodeMembership,
  NodeRecord,
  Registry,
  RegistryEvent,
} from "./registry.ts";
import { NodeIdTakenError } from "./errors.ts";
import { RegistryMirror } from "./mirror.ts";
import { type OwnerMap, resetEvent } from "./owner_map.ts";

/** Shared state of memory registries: node records and user → node ids. */
export class MemoryRegistryStore {
  readonly #mirror = new RegistryMirror();
  /** `${nodeId}\n${user}` → the user's connections on that node. */
  readonly devices = new Map<string, readonly DeviceRef[]>();
  readonly #listeners = new Set<(event: RegistryEvent) => void>();

  /** Live node records by id. */
  get nodes(): ReadonlyMap<string, NodeRecord> {
    return this.#mirror.nodes;
  }

  /** user → the ids of the nodes holding it. */
  get owners(): OwnerMap {
    return this.#mirror.owners;
  }

  /** Applies a change and tells every watcher (a user change that changes nothing is not told). */
  emit(event: RegistryEvent): void {
    if (event.type === "reset") throw new Error("a store is never reset");
    if (!this.#mirror.apply(event)) return;
    for (const listener of this.#listeners) listener(event);
  }

  /** The whole state as a `reset` event (its owners are the watcher's own copy). */
  snapshot(): RegistryEvent {
    return resetEvent([...this.nodes.values()], this.owners.clone());
  }

  listen(listener: (event: RegistryEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

/** A {@link Registry} kept in process memory. */
export class MemoryRegistry implements Registry {
  readonly store: MemoryRegistryStore;

  constructor(store: MemoryRegistryStore = new MemoryRegistryStore()) {
    this.store = store;
  }

  owners(user: string): Promise<string[]> {
    return Promise.resolve(this.store.owners.ownersOf(user));
  }

  devices(user: string): Promise<NodeDevice[]> {
    return Promise.resolve(
      this.store.owners.ownersOf(user).flatMap((nodeId) =>
        (this.store.devices.get(`${nodeId}\n${user}`) ?? []).map((device) => ({
          ...device,
          nodeId,
        }))
      ),
    );
  }

  nodes(): Promise<NodeRecord[]> {
    return Promise.resolve([...this.store.nodes.values()]);
  }

  async *watch(signal: AbortSignal): AsyncIterable<RegistryEvent> {
    const queue: RegistryEvent[] = [this.store.snapshot()];
    let wake: (() => void) | undefined;
    const unlisten = this.store.listen((event) => {
      queue.push(event);
      wake?.();
    });
    const onAbort = () => wake?.();
    signal.addEventListener("abort", onAbort);
    try {
      while (!signal.aborted) {
        const event = queue.shift();
        if (event) {
          yield event;
          continue;
        }
        await new Promise<void>((resolve) => wake = resolve);
        wake = undefined;
      }
    } finally {
      unlisten();
      signal.removeEventListener("abort", onAbort);
    }
  }

  join(node: NodeRecord): Promise<NodeMembership> {
    if (this.store.nodes.has(node.nodeId)) {
      return Promise.reject(new NodeIdTakenError(node.nodeId));
    }
    this.store.emit({ type: "node", node: { ...node } });
    return Promise.resolve(new MemoryMembership(this.store, { ...node }));
  }

  ping(): Promise<void> {
    return Promise.resolve();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return Promise.resolve();
  }
}

class MemoryMembership implements NodeMembership {
  readonly #store: MemoryRegistryStore;
  readonly #node: NodeRecord;
  readonly #users = new Set<string>();
  #left = false;

  constructor(store: MemoryRegistryStore, node: NodeRecord) {
    this.#store = store;
    this.#node = node;
  }

  get nodeId(): string {
    return this.#node.nodeId;
  }

  get healthy(): boolean {
    return !this.#left;
  }

  /** Memory keeps its keys: a membership here is never restored. */
  onRestored(_listener: () => void): () => void {
    return () => {};
  }

  register(user: string, devices: readonly DeviceRef[] = []): Promise<void> {
    if (this.#left) return Promise.reject(new Error("node has left"));
    this.#users.add(user);
    this.#store.devices.set(`${this.nodeId}\n${user}`, [...devices]);
    this.#store.emit({ type: "user", user, nodeId: this.nodeId });
    return Promise.resolve();
  }

  unregister(user: string): Promise<void> {
    this.#store.devices.delete(`${this.nodeId}\n${user}`);
    if (this.#users.delete(user)) {
      this.#store.emit({ type: "user-gone", user, nodeId: this.nodeId });
    }
    return Promise.resolve();
  }

  setDraining(draining: boolean): Promise<void> {
    this.#node.draining = draining;
    if (!this.#left) {
      this.#store.emit({ type: "node", node: { ...this.#node } });
    }
    return Promise.resolve();
  }

  leave(): Promise<void> {
    if (this.#left) return Promise.resolve();
    this.#left = true;
    for (const user of this.#users) {
      this.#store.devices.delete(`${this.nodeId}\n${user}`);
      this.#store.emit({ type: "user-gone", user, nodeId: this.nodeId });
    }
    this.#users.clear();
    this.#store.emit({ type: "node-gone", nodeId: this.nodeId });
    return Promise.resolve();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.leave();
  }
}
