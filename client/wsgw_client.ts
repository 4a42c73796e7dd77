/**
 * The wsgw client: one WebSocket to any gateway node that reconnects with
 * backoff (honouring `Retry-After`), resumes with `since`/`epoch`, drops
 * duplicates, refreshes its token on the live connection, notices dead
 * sockets and the browser going offline or waking up, and tells the app
 * every transition. No dependencies; runs in browsers, Deno and Node ≥ 22.
 * Every gateway serves the built module at `/client.js`; `client/` is also
 * an npm package (`@wsgw/client`). Guide: docs/CLIENT.md.
 *
 * @example
 * ```js
 * import { WsgwClient } from "@wsgw/client";
 * const client = new WsgwClient({ url: "wss://gateway/ws", token: async () => (await fetch("/token")).text() });
 * client.addEventListener("message", (e) => console.log(e.detail.seq, e.detail.data));
 * client.addEventListener("connecting", (e) => console.log(`retry #${e.detail.attempt} in ${e.detail.delay} ms`));
 * await client.connect();
 * ```
 *
 * @module
 */
import { backoffDelay } from "./_backoff.ts";
import { parseSocketUrl } from "./_connect_url.ts";
import { Dialer } from "./_dialer.ts";
import { Lifecycle } from "./_lifecycle.ts";
import { SeqTracker } from "./_seq_tracker.ts";
import { parseSettings, type Settings } from "./_settings.ts";
import type {
  WsgwClientEventMap,
  WsgwClientOptions,
  WsgwClosed,
  WsgwConnected,
  WsgwConnecting,
  WsgwError,
  WsgwState,
  WsgwToken,
  WsgwWelcome,
} from "./_types.ts";

export type * from "./_types.ts";
import { WsgwClientError } from "./_errors.ts";
export {
  TokenTimeoutError,
  WsgwClientError,
  WsgwStopError,
} from "./_errors.ts";

/**
 * `EventTarget` at runtime; for the type checker only `dispatchEvent`, so
 * the typed `addEventListener` of the client is its only overload
 * (EventTarget's `(type: string, …)` would accept any name).
 */
const UntypedTarget = EventTarget as unknown as new () => {
  dispatchEvent(event: Event): boolean;
};

/**
 * A self-healing connection to a wsgw gateway; `T` types `message` data.
 * Dispatches the `CustomEvent`s of {@link WsgwClientEventMap}.
 */
export class WsgwClient<T = unknown> extends UntypedTarget {
  #settings: Settings;
  #seqs: SeqTracker;
  #dialer: Dialer<T>;
  #lifecycle: Lifecycle;
  #state: WsgwState = "closed";
  /** Retries since the last connection that stayed up `stableAfter`. */
  #failures = 0;
  #welcome: WsgwWelcome | undefined;
  #retryTimer: unknown;
  #stableTimer: unknown;
  #ready: PromiseWithResolvers<WsgwConnected> | undefined;

  /** @throws {TypeError} naming the option that is missing or invalid. */
  constructor(options: WsgwClientOptions) {
    super();
    const url = parseSocketUrl(options.url);
    const settings = this.#settings = parseSettings(options);
    this.#seqs = new SeqTracker(options.since, options.epoch);
    this.#dialer = new Dialer<T>(url, settings, this.#seqs, {
      emit: (type, detail) => this.#emit(type, detail),
      welcomed: (welcome, wasRecovering) =>
        this.#welcomed(welcome, wasRecovering),
      lost: (retryAfter) => this.#retry(retryAfter),
      stop: ({ closed, error }) => this.#finish(closed, error),
    });
    const { pingInterval, pongTimeout } = settings;
    this.#lifecycle = new Lifecycle(
      settings.environment,
      settings.now,
      pingInterval + pongTimeout,
      {
        offline: () => this.#dialer.drop(3008, "offline") && this.#retry(),
        online: () => this.#wake("online"),
        woke: () => this.#wake("resume"),
      },
    );
  }

  /** Adds a listener for an event of {@link WsgwClientEventMap} (typos fail to type-check). */
  addEventListener<K extends keyof WsgwClientEventMap<T>>(
    type: K,
    listener: ((event: WsgwClientEventMap<T>[K]) => void) | null,
    options?: boolean | AddEventListenerOptions,
  ): void {
    const add = EventTarget.prototype.addEventListener;
    add.call(this, type, listener as EventListener | null, options);
  }

  /** Removes a listener added with `addEventListener`. */
  removeEventListener<K extends keyof WsgwClientEventMap<T>>(
    type: K,
    listener: ((event: WsgwClientEventMap<T>[K]) => void) | null,
    options?: boolean | EventListenerOptions,
  ): void {
    const remove = EventTarget.prototype.removeEventListener;
    remove.call(this, type, listener as EventListener | null, options);
  }

  /** The connection state. */
  get state(): WsgwState {
    return this.#state;
  }
  /**
   * Where the next connection resumes (`since`): the highest `seq` delivered
   * in the current epoch, or the user's seq when this client first connected
   * without `since` (older history is not replayed to a new client).
   */
  get lastSeq(): number {
    return this.#seqs.position;
  }
  /** The epoch of the user's history, from the last welcome or reset. */
  get epoch(): string | undefined {
    return this.#seqs.epoch;
  }
  /** The id of the current (or last) connection, from its welcome. */
  get connId(): string | undefined {
    return this.#welcome?.connId;
  }
  /** The gateway node of the current (or last) connection. */
  get nodeId(): string | undefined {
    return this.#welcome?.nodeId;
  }
  /** The user the token authenticated, from the last welcome. */
  get userId(): string | undefined {
    return this.#welcome?.userId;
  }

  /**
   * Starts connecting unless already started. Resolves at the first welcome;
   * rejects with a {@link WsgwClientError} when the client stops before.
   */
  connect(): Promise<WsgwConnected> {
    if (this.#state !== "closed" && this.#ready) return this.#ready.promise;
    const ready = this.#ready = deferred<WsgwConnected>();
    // Apps that only listen to events must not see an unhandled rejection.
    ready.promise.catch(() => undefined);
    this.#failures = 0;
    this.#dialer.resetAuth();
    this.#setState("connecting");
    this.#lifecycle.start();
    this.#emit("connecting", { attempt: 1, delay: 0, cause: "connect" });
    this.#dialer.dial();
    return ready.promise;
  }

  /**
   * Replaces the token (a string or a function) for every later connection.
   * A string is also sent to the live connection at once, so the gateway
   * extends it to the new token's expiry.
   */
  setToken(token: WsgwToken): void {
    if (typeof token !== "function" && (typeof token !== "string" || !token)) {
      throw new TypeError("token must be a non-empty string or a function");
    }
    this.#settings.token = token;
    if (typeof token === "string") this.#dialer.refreshWith(token);
    else this.#dialer.scheduleRefresh();
  }

  /**
   * Stops reconnecting and closes the socket with 1000. The promise settles
   * once the socket has closed, or after at most 1 s when the peer is dead.
   */
  close(): Promise<void> {
    if (this.#state !== "closed") {
      this.#dialer.cancel();
      this.#dialer.drop(1000, "client closed", false);
      this.#finish({ code: 1000, reason: "client closed" });
    }
    return this.#dialer.settled(Math.min(1000, this.#settings.pongTimeout));
  }

  #welcomed(welcome: WsgwWelcome, wasRecovering: boolean): void {
    const { timers, stableAfter } = this.#settings;
    this.#welcome = welcome;
    timers.clearTimeout(this.#stableTimer);
    // Only a connection that stays up a while proves the way is clear: a
    // node that welcomes and then closes at once must not reset the backoff.
    this.#stableTimer = timers.setTimeout(() => {
      this.#stableTimer = undefined;
      this.#failures = 0;
    }, stableAfter);
    this.#setState("connected");
    const connected = { ...welcome, wasRecovering };
    this.#emit("welcome", { ...welcome });
    this.#emit("connected", connected);
    this.#ready?.resolve(connected);
  }

  /** Schedules the next dial after backoff (at least `retryAfter` ms). */
  #retry(retryAfter?: number): void {
    if (this.#state === "closed") return;
    const { minDelay, maxDelay, random } = this.#settings;
    this.#clearTimers();
    this.#setState("connecting");
    let delay = backoffDelay(this.#failures++, minDelay, maxDelay, random);
    let cause: WsgwConnecting["cause"] = "backoff";
    if (retryAfter !== undefined && retryAfter >= delay) {
      // Jitter on top, so clients told the same wait do not return in step.
      delay = Math.round(retryAfter + random() * minDelay);
      cause = "retry-after";
    }
    this.#schedule(delay, cause);
  }

  #schedule(delay: number, cause: WsgwConnecting["cause"]): void {
    this.#emit("connecting", { attempt: this.#failures + 1, delay, cause });
    this.#retryTimer = this.#settings.timers.setTimeout(() => {
      this.#retryTimer = undefined;
      this.#dialer.dial();
    }, delay);
  }

  /** `online`, or visible after a long sleep: check or redial now. */
  #wake(cause: "online" | "resume"): void {
    if (this.#state === "closed") return;
    if (this.#dialer.connected) return this.#dialer.checkNow();
    // Waiting to retry, or an attempt begun while the network was down
    // (its socket or probe may hang): start over now.
    this.#dialer.drop(3008, cause);
    this.#dialer.cancel();
    this.#clearTimers();
    this.#failures = 0;
    const { random, minDelay } = this.#settings;
    this.#schedule(Math.floor(random() * Math.min(minDelay * 2, 1000)), cause);
  }

  #clearTimers(): void {
    const { timers } = this.#settings;
    timers.clearTimeout(this.#retryTimer);
    timers.clearTimeout(this.#stableTimer);
    this.#retryTimer = this.#stableTimer = undefined;
  }

  #finish(closed: WsgwClosed, error?: WsgwError): void {
    if (this.#state === "closed") return;
    this.#clearTimers();
    this.#dialer.cancel();
    this.#lifecycle.stop();
    if (error) this.#emit("error", error);
    this.#setState("closed");
    this.#emit("closed", closed);
    this.#ready?.reject(
      new WsgwClientError(
        error?.code ?? "closed",
        error?.message ?? `the client closed: ${closed.reason}`,
      ),
    );
  }

  #emit<K extends keyof WsgwClientEventMap<T>>(
    type: K,
    detail: WsgwClientEventMap<T>[K]["detail"],
  ): void {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  #setState(state: WsgwState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#emit("state", state);
  }
}

/** `Promise.withResolvers`, which Node 20 and Safari < 17.4 lack. */
function deferred<V>(): PromiseWithResolvers<V> {
  let resolve!: (value: V | PromiseLike<V>) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<V>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
