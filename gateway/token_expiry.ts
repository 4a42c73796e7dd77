/**
 * A connection lives no longer than its token: at `exp` (plus the allowed
 * clock skew) the gateway closes it with 4004 `token expired`, unless the
 * client sent a `token` frame with a fresh token of the same user first.
 *
 * One {@link TokenExpiry} watches every connection of a node: connections
 * are grouped by the tick their token expires in, and one timer runs while
 * any is watched. A timer per connection cost each idle socket a `Timeout`,
 * its closure and an abort listener for its whole life.
 *
 * @module
 */
import { HttpError, UnauthorizedError } from "../shared/errors.ts";
import type { TokenVerifier } from "../shared/token.ts";
import type { ChannelSession } from "./channel_session.ts";

/** How late past its expiry a connection may be closed, in ms. */
const TICK_MS = 250;

/** Options of {@link TokenExpiry}. */
export type TokenExpiryOptions = {
  /** Seconds a token is still honoured past its `exp`. */
  skewSeconds: number;
  /** Clock in ms. @default Date.now */
  now?: () => number;
};

/** The token expiry of every connection of one node. */
export class TokenExpiry {
  readonly #skewMs: number;
  readonly #now: () => number;
  /** Tick number → the connections whose token expires in it. */
  readonly #ticks = new Map<number, Set<ChannelSession>>();
  /** Connection → the tick it is filed under. */
  readonly #tickOf = new Map<ChannelSession, number>();
  /** The last tick swept; undefined while nothing is watched. */
  #swept: number | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(options: TokenExpiryOptions) {
    this.#skewMs = options.skewSeconds * 1000;
    this.#now = options.now ?? Date.now;
  }

  /** Connections watched (for tests). */
  get watched(): number {
    return this.#tickOf.size;
  }

  /**
   * (Re)arms the close of `session` for a token expiring at `expiresAt`
   * (ms since the epoch); a token already past it closes the session now.
   */
  expireAt(session: ChannelSession, expiresAt: number): void {
    this.forget(session);
    if (session.closed) return;
    const due = expiresAt + this.#skewMs;
    const now = this.#now();
    if (due <= now) return session.close("tokenExpired");
    // Closed in the first sweep at or after `due`.
    const tick = Math.ceil(due / TICK_MS);
    let sessions = this.#ticks.get(tick);
    if (!sessions) this.#ticks.set(tick, sessions = new Set());
    sessions.add(session);
    this.#tickOf.set(session, tick);
    if (this.#timer === undefined) {
      this.#swept = Math.floor(now / TICK_MS);
      this.#timer = setInterval(() => this.#sweep(), TICK_MS);
      // Watching tokens never keeps a process (or a test) alive.
      Deno.unrefTimer(this.#timer);
    }
  }

  /** Stops watching `session` (it closed); not watched is not an error. */
  forget(session: ChannelSession): void {
    const tick = this.#tickOf.get(session);
    if (tick === undefined) return;
    this.#tickOf.delete(session);
    const sessions = this.#ticks.get(tick)!;
    sessions.delete(session);
    if (sessions.size === 0) this.#ticks.delete(tick);
    if (this.#tickOf.size === 0) this.#stop();
  }

  /**
   * Applies a `token` frame: a valid token of the same user and device
   * moves the expiry; anything else is answered with an error frame and
   * changes nothing.
   */
  async renew(
    session: ChannelSession,
    token: unknown,
    verifier: TokenVerifier,
  ): Promise<void> {
    try {
      if (typeof token !== "string") {
        throw new UnauthorizedError(
          "token frame needs a string token",
          undefined,
          "token_invalid",
        );
      }
      const claims = await verifier.verify(token);
      const { user, device } = session.info;
      if (claims.user !== user || claims.device !== device) {
        throw new UnauthorizedError(
          "the new token names another user or device",
          undefined,
          "token_mismatch",
        );
      }
      this.expireAt(session, claims.expiresAt);
    } catch (error) {
      if (session.closed) return;
      const code = error instanceof HttpError ? error.code : "token_invalid";
      const message = error instanceof HttpError
        ? error.message
        : "the token could not be verified";
      session.sendFrame({
        type: "error",
        code: code.startsWith("token_") ? code : `token_${code}`,
        message,
      });
    }
  }

  /** Closes the connections of every tick that has come. */
  #sweep(): void {
    const now = Math.floor(this.#now() / TICK_MS);
    for (let tick = this.#swept! + 1; tick <= now; tick++) {
      const sessions = this.#ticks.get(tick);
      if (!sessions) continue;
      this.#ticks.delete(tick);
      for (const session of sessions) {
        this.#tickOf.delete(session);
        session.close("tokenExpired");
      }
    }
    this.#swept = now;
    if (this.#tickOf.size === 0) this.#stop();
  }

  #stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#swept = undefined;
  }
}
