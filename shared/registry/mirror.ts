/**
 * The registry's state as its events leave it: node records, and which nodes
 * hold which users. The one place that applies {@link RegistryEvent}s to
 * maps; the router's route cache, the memory registry's store and the tests'
 * watch mirror each hold one.
 *
 * @module
 */
import { OwnerMap } from "./owner_map.ts";
import type { NodeRecord, RegistryEvent } from "./registry.ts";

/**
 * Node records by id and user → node ids, kept by {@link apply}.
 *
 * @example
 * ```ts
 * const mirror = new RegistryMirror();
 * for await (const event of registry.watch(signal)) mirror.apply(event);
 * mirror.owners.get("alice"); // "node-1"
 * ```
 */
export class RegistryMirror {
  #nodes = new Map<string, NodeRecord>();
  #owners = new OwnerMap();

  /**
   * Live node records by id (a node's user keys may outlive its record for
   * a moment: they arrive as `user-gone` events after its `node-gone`). A
   * `reset` replaces the map, so one taken before still reads as it was.
   */
  get nodes(): ReadonlyMap<string, NodeRecord> {
    return this.#nodes;
  }

  /** user → the id(s) of the nodes holding it. */
  get owners(): OwnerMap {
    return this.#owners;
  }

  /**
   * Applies one event. A `reset` replaces everything and adopts its
   * `owners` as they are (no copy of a million entries): the event's map
   * changes with later events, as the seam allows its consumer.
   *
   * @returns false when a `user` or `user-gone` event changed nothing (the
   * pair was already there, or already gone); true otherwise.
   */
  apply(event: RegistryEvent): boolean {
    switch (event.type) {
      case "reset":
        this.#nodes = new Map(event.nodes.map((node) => [node.nodeId, node]));
        this.#owners = event.owners;
        return true;
      case "node":
        this.#nodes.set(event.node.nodeId, event.node);
        return true;
      case "node-gone":
        this.#nodes.delete(event.nodeId);
        return true;
      case "user":
        return this.#owners.add(event.user, event.nodeId);
      case "user-gone":
        return this.#owners.remove(event.user, event.nodeId);
    }
  }
}
