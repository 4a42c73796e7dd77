/**
 * Browser lifecycle the client reacts to: `offline` (drop the socket now,
 * it cannot work), `online` (reconnect now), and the page becoming visible
 * after a long time hidden (a laptop that slept: check the socket now).
 *
 * @module
 */
import type { WsgwEnvironment } from "./_types.ts";

/** What {@link Lifecycle} tells the client. */
export type LifecycleHandlers = {
  offline(): void;
  online(): void;
  /** Visible again after at least `longSleep` ms hidden. */
  woke(): void;
};

/** Listens to one environment while the client runs. */
export class Lifecycle {
  #env: WsgwEnvironment;
  #now: () => number;
  #longSleep: number;
  #handlers: LifecycleHandlers;
  #hiddenAt: number | undefined;
  #listening = false;

  constructor(
    env: WsgwEnvironment,
    now: () => number,
    longSleep: number,
    handlers: LifecycleHandlers,
  ) {
    this.#env = env;
    this.#now = now;
    this.#longSleep = longSleep;
    this.#handlers = handlers;
  }

  /** False only when the environment knows it is offline. */
  get online(): boolean {
    return this.#env.online() !== false;
  }

  #offline = () => this.#handlers.offline();
  #online = () => this.#handlers.online();
  #visibility = () => {
    const visible = this.#env.visible();
    if (visible === false) {
      this.#hiddenAt ??= this.#now();
      return;
    }
    const hiddenAt = this.#hiddenAt;
    this.#hiddenAt = undefined;
    if (hiddenAt !== undefined && this.#now() - hiddenAt >= this.#longSleep) {
      this.#handlers.woke();
    }
  };

  start(): void {
    if (this.#listening) return;
    this.#listening = true;
    this.#hiddenAt = this.#env.visible() === false ? this.#now() : undefined;
    this.#env.addEventListener("offline", this.#offline);
    this.#env.addEventListener("online", this.#online);
    this.#env.addEventListener("visibilitychange", this.#visibility);
  }

  stop(): void {
    if (!this.#listening) return;
    this.#listening = false;
    this.#env.removeEventListener("offline", this.#offline);
    this.#env.removeEventListener("online", this.#online);
    this.#env.removeEventListener("visibilitychange", this.#visibility);
  }
}
