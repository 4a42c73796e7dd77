/**
 * Renewing the token of a live connection: read the JWT's `exp`, call the
 * token function (reason `refresh`) ahead of it, and send the new token in a
 * `token` frame, so the gateway moves the connection's expiry without a
 * reconnect (PROTOCOL.md "Token lifetime").
 *
 * @module
 */
import type { TokenFrame } from "../shared/protocol.ts";
import type { Settings } from "./_settings.ts";
import { fetchToken, refreshDelay, tokenExpiry } from "./_token_source.ts";

/** What the refresher needs from the connection it serves. */
export type RefreshHooks = {
  /** The welcomed, open socket, or undefined. */
  socket(): WebSocket | undefined;
  /** Aborted when the connection attempt is abandoned. */
  signal(): AbortSignal;
  /** The token function failed (threw, timed out, or stopped the client). */
  failed(error: unknown): void;
};

/** The refresh timer of the current connection. */
export class TokenRefresh {
  #settings: Settings;
  #hooks: RefreshHooks;
  #timer: unknown;
  /** The token the live connection holds. */
  #token: string | undefined;
  /** Bumped by stop(): a refresh in flight for an older connection is dropped. */
  #round = 0;

  constructor(settings: Settings, hooks: RefreshHooks) {
    this.#settings = settings;
    this.#hooks = hooks;
  }

  /** The token a new connection was opened with. */
  use(token: string): void {
    this.#token = token;
  }

  /** Plans the next refresh, when the token is a function and a JWT with `exp`. */
  schedule(): void {
    const { timers, token, now, refreshBefore } = this.#settings;
    timers.clearTimeout(this.#timer);
    this.#timer = undefined;
    const expiresAt = this.#token && tokenExpiry(this.#token);
    if (typeof token !== "function" || !expiresAt || !this.#hooks.socket()) {
      return;
    }
    // Too late to renew: the gateway closes with 4004 and the client redials.
    if (expiresAt - now() < 1000) return;
    this.#timer = timers.setTimeout(() => {
      this.#timer = undefined;
      void this.#refresh();
    }, refreshDelay(expiresAt, now(), refreshBefore));
  }

  async #refresh(): Promise<void> {
    const round = this.#round;
    let token: string;
    try {
      token = await fetchToken(this.#settings, "refresh", this.#hooks.signal());
    } catch (error) {
      if (round !== this.#round) return;
      this.#hooks.failed(error);
      return this.schedule(); // again at half the time left
    }
    if (round === this.#round) this.send(token);
  }

  /** Hands `token` to the live connection in a `token` frame. */
  send(token: string): void {
    const socket = this.#hooks.socket();
    if (socket?.readyState !== 1) return;
    this.#token = token;
    socket.send(JSON.stringify({ type: "token", token } satisfies TokenFrame));
    this.schedule();
  }

  /** The connection ended: no refresh for it any more. */
  stop(): void {
    this.#round++;
    this.#settings.timers.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
