/**
 * The app-level keepalive: a `ping` every interval; the connection is dead
 * when no frame at all arrives within the timeout after a ping. Browsers
 * answer protocol pings themselves but never send any, so a half-open TCP
 * connection would otherwise go unnoticed for minutes.
 *
 * @module
 */
import type { WsgwTimers } from "./_types.ts";

/** Timers of one connection's keepalive; `stop()` clears them all. */
export class Keepalive {
  #timers: WsgwTimers;
  #interval: number;
  #timeout: number;
  #ping: () => void;
  #dead: () => void;
  #pingTimer: unknown;
  #deadTimer: unknown;

  constructor(
    timers: WsgwTimers,
    interval: number,
    timeout: number,
    ping: () => void,
    dead: () => void,
  ) {
    this.#timers = timers;
    this.#interval = interval;
    this.#timeout = timeout;
    this.#ping = ping;
    this.#dead = dead;
  }

  /** Schedules the next ping `interval` from now. */
  start(): void {
    this.stop();
    this.#pingTimer = this.#timers.setTimeout(() => {
      this.#pingTimer = undefined;
      this.#ping();
      this.#deadTimer = this.#timers.setTimeout(() => {
        this.#deadTimer = undefined;
        this.#dead();
      }, this.#timeout);
    }, this.#interval);
  }

  /**
   * Pings now unless a ping is already waiting for its answer: after the
   * page slept, the socket may be long dead; this finds out in `timeout`.
   */
  checkNow(): void {
    if (this.#deadTimer !== undefined) return;
    this.#timers.clearTimeout(this.#pingTimer);
    this.#pingTimer = undefined;
    this.#ping();
    this.#deadTimer = this.#timers.setTimeout(() => {
      this.#deadTimer = undefined;
      this.#dead();
    }, this.#timeout);
  }

  /** A frame arrived: a pending ping is answered; the next follows later. */
  alive(): void {
    if (this.#deadTimer !== undefined) this.start();
  }

  stop(): void {
    this.#timers.clearTimeout(this.#pingTimer);
    this.#timers.clearTimeout(this.#deadTimer);
    this.#pingTimer = this.#deadTimer = undefined;
  }
}
