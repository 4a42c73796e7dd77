/**
 * Consumes `Registry.watch()` in the background and applies its events with
 * the registry's own {@link RegistryMirror} (what a router's route cache
 * holds), so tests can wait for a state
 * (`waitFor(() => mirror.has("u", "n1"))`) instead of counting events.
 *
 * @module
 */
import {
  type NodeRecord,
  type Registry,
  type RegistryEvent,
  RegistryMirror,
  resetEvent,
} from "../../shared/registry/mod.ts";

/** A live copy of the registry built from one watch. */
export class WatchMirror implements AsyncDisposable {
  /** Every event in order, resets included (as they arrived: later events do not change them). */
  readonly events: RegistryEvent[] = [];
  /** How many `reset` events arrived. */
  resets = 0;
  readonly #state = new RegistryMirror();
  readonly #abort = new AbortController();
  readonly #done: Promise<void>;

  constructor(registry: Registry) {
    this.#done = this.#consume(registry);
  }

  /** Live node records by id. */
  get nodes(): ReadonlyMap<string, NodeRecord> {
    return this.#state.nodes;
  }

  /** Node ids holding `user`, sorted. */
  owners(user: string): string[] {
    return this.#state.owners.ownersOf(user).sort();
  }

  has(user: string, nodeId: string): boolean {
    return this.#state.owners.has(user, nodeId);
  }

  /** Every user held by some node. */
  users(): string[] {
    return [...this.#state.owners.users()];
  }

  /** How many (user, node) pairs the mirror holds. */
  get pairs(): number {
    return this.#state.owners.pairs;
  }

  /** Stops the watch; rethrows if the watch itself threw. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.#abort.abort();
    await this.#done;
  }

  async #consume(registry: Registry): Promise<void> {
    for await (const event of registry.watch(this.#abort.signal)) {
      this.events.push(event);
      if (event.type === "reset") {
        this.resets++;
        // The mirror adopts a reset's owners and changes them; the event
        // kept in `events` must stay as it arrived.
        this.#state.apply(resetEvent(event.nodes, event.owners.clone()));
      } else this.#state.apply(event);
    }
  }
}
