/**
 * The wsgw browser client: one WebSocket to any gateway node that reconnects
 * with backoff, resumes with `since`/`epoch`, drops duplicates by `seq` and
 * keeps itself alive with `ping`. No dependencies; runs in browsers and Deno.
 * Every gateway serves the built module at `/client.js` (types:
 * `/client.d.ts`).
 *
 * @example
 * ```js
 * import { WsgwClient } from "http://gateway/client.js";
 * const client = new WsgwClient({ url: "ws://gateway/ws", token: async () => (await fetch("/token")).text() });
 * client.addEventListener("message", (e) => console.log(e.detail.seq, e.detail.data));
 * client.addEventListener("state", (e) => console.log(e.detail));
 * client.connect();
 * ```
 *
 * @module
 */
import type { CLOSE, ServerFrame } from "../shared/protocol.ts";
import { backoffDelay } from "./_backoff.ts";
import { connectUrl, parseSocketUrl } from "./_connect_url.ts";
import { classifyFailure, statusFromErrorMessage } from "./_failure.ts";
import { Keepalive } from "./_keepalive.ts";
import { SeqTracker } from "./_seq_tracker.ts";
import { parseSettings, type Settings } from "./_settings.ts";

/** `connecting` (also while waiting to reconnect), `open`, or `closed` for good. */
export type WsgwState = "connecting" | "open" | "closed";

/** A delivered message; `seq` is absent on broadcasts. */
export type WsgwMessage = {
  seq?: number;
  id: string;
  data: unknown;
  ts: number;
  broadcast?: true;
};

/** The first frame of every connection (the `welcome` frame without `type`). */
export type WsgwWelcome = {
  connId: string;
  nodeId: string;
  userId: string;
  /** Latest seq of this user when the connection started. */
  seq: number;
  epoch: string;
  /** False when the history epoch changed: seq tracking was reset. */
  recovered: boolean;
};

/**
 * Detail of an `error` event. `code` is `unauthorized`, `evicted` (4001),
 * `disconnected` (4003), `token` (the token function threw), `socket`
 * (the WebSocket could not be created), `bad_frame`, or the code of a
 * server `error` frame.
 */
export type WsgwError = {
  code: string;
  message: string;
  /** The WebSocket close code, when a close caused the error. */
  closeCode?: number;
  cause?: unknown;
};

/** Detail of the `closed` event: why the client stopped for good. */
export type WsgwClosed = { code: number; reason: string };

/** The events a {@link WsgwClient} dispatches, all `CustomEvent`s. */
export type WsgwClientEventMap = {
  message: CustomEvent<WsgwMessage>;
  state: CustomEvent<WsgwState>;
  welcome: CustomEvent<WsgwWelcome>;
  error: CustomEvent<WsgwError>;
  closed: CustomEvent<WsgwClosed>;
};

/** A token, or a function fetching a fresh one before every connection. */
export type WsgwToken = string | (() => string | Promise<string>);

/** The timer functions the client uses; `globalThis` fits. */
export type WsgwTimers = {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
};

/** Options of {@link WsgwClient}. Durations are in milliseconds. */
export type WsgwClientOptions = {
  /** The gateway's `/ws` URL (`ws:`/`wss:`; `http:`/`https:` are converted). */
  url: string | URL;
  /** The JWT, or a function returning one (called before every connection). */
  token: WsgwToken;
  /** Backoff base: retry `n` waits `random(0, min(maxDelay, minDelay * 2^n))`. @default 500 */
  minDelay?: number;
  /** Backoff cap. @default 30000 */
  maxDelay?: number;
  /** Time between the client's `ping` frames. @default 25000 */
  pingInterval?: number;
  /** After a ping, the connection is dead if no frame arrives within this. @default 10000 */
  pongTimeout?: number;
  /**
   * Stop with an `unauthorized` error after this many consecutive
   * connections that failed before opening while the server was answering
   * (see README: an outage never counts). @default 3
   */
  maxAuthFailures?: number;
  /** Probe the URL over HTTP after a failure before open, to tell an outage from a refusal. @default true */
  probe?: boolean;
  /** Resume from a seq saved earlier (with its `epoch`); `0` replays the retained history. */
  since?: number;
  /** The epoch `since` refers to (from a previous `welcome`). */
  epoch?: string;
  /** WebSocket constructor (tests). @default globalThis.WebSocket */
  WebSocket?: new (url: string) => WebSocket;
  /** fetch used by the probe (tests). @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Uniform random numbers in [0, 1) for the jitter (tests). @default Math.random */
  random?: () => number;
  /** Timer source (tests). @default globalThis's setTimeout/clearTimeout */
  timers?: WsgwTimers;
};

// Typed against shared/protocol.ts (type-only: the built module imports nothing).
const EVICTED: typeof CLOSE.evicted.code = 4001;
const DISCONNECTED: typeof CLOSE.disconnected.code = 4003;
/** Closes after which the server wants the client gone: no reconnect. */
const TERMINAL_CLOSES: Record<number, string> = {
  [EVICTED]: "evicted",
  [DISCONNECTED]: "disconnected",
};
/** IANA-registered close code "Timeout", sent when dropping a dead socket. */
const CLOSE_TIMEOUT = 3008;

/**
 * A self-healing connection to a wsgw gateway. Dispatches `message`,
 * `state`, `welcome`, `error` and `closed` (`CustomEvent`s, see
 * {@link WsgwClientEventMap}).
 */
export class WsgwClient extends EventTarget {
  #settings: Settings;
  #url: URL;
  #seqs: SeqTracker;
  #keepalive: Keepalive;
  #state: WsgwState = "closed";
  #socket: WebSocket | undefined;
  /** Bumped by every dial and by close(): stale async steps see it and stop. */
  #generation = 0;
  #attempt = 0;
  #authFailures = 0;
  #welcome: WsgwWelcome | undefined;
  #retryTimer: unknown;
  #probe: AbortController | undefined;
  /** Sockets not yet closed and probes in flight, awaited by close(). */
  #pending = new Set<Promise<unknown>>();

  /** @throws {TypeError} naming the option that is missing or invalid. */
  constructor(options: WsgwClientOptions) {
    super();
    this.#url = parseSocketUrl(options.url);
    this.#settings = parseSettings(options);
    this.#seqs = new SeqTracker(options.since, options.epoch);
    const { timers, pingInterval, pongTimeout } = this.#settings;
    this.#keepalive = new Keepalive(timers, pingInterval, pongTimeout, () => {
      if (this.#socket?.readyState === 1) this.#socket.send('{"type":"ping"}');
    }, () => this.#dead());
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
  /** The epoch of the user's history, from the last welcome. */
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

  /** Starts connecting; does nothing unless the state is `closed`. */
  connect(): void {
    if (this.#state !== "closed") return;
    this.#attempt = 0;
    this.#authFailures = 0;
    this.#setState("connecting");
    void this.#dial();
  }

  /**
   * Stops reconnecting and closes the socket with 1000. The promise settles
   * once the socket has closed (waiting at most `pongTimeout`).
   */
  close(): Promise<void> {
    if (this.#state !== "closed") {
      this.#generation++;
      this.#probe?.abort();
      this.#drop(1000, "client closed");
      this.#finish({ code: 1000, reason: "client closed" });
    }
    return this.#settled();
  }

  /** Typed `addEventListener` for the events of {@link WsgwClientEventMap}. */
  override addEventListener<K extends keyof WsgwClientEventMap>(
    type: K,
    listener: (event: WsgwClientEventMap[K]) => void,
    options?: boolean | AddEventListenerOptions,
  ): void;
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void {
    super.addEventListener(type, listener, options);
  }

  /** Typed `removeEventListener`, the counterpart of `addEventListener`. */
  override removeEventListener<K extends keyof WsgwClientEventMap>(
    type: K,
    listener: (event: WsgwClientEventMap[K]) => void,
    options?: boolean | EventListenerOptions,
  ): void;
  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void;
  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void {
    super.removeEventListener(type, listener, options);
  }

  async #dial(): Promise<void> {
    const generation = ++this.#generation;
    this.#retryTimer = undefined;
    let url: string | undefined;
    try {
      const { token } = this.#settings;
      const value = typeof token === "function" ? await token() : token;
      if (generation !== this.#generation) return;
      if (typeof value !== "string" || !value) {
        throw new TypeError("the token function returned no token");
      }
      url = connectUrl(this.#url, value, this.#seqs.resume());
      this.#open(new this.#settings.WebSocket(url), url);
    } catch (error) {
      if (generation !== this.#generation) return;
      const code = url === undefined ? "token" : "socket";
      this.#emit("error", { code, message: messageOf(error), cause: error });
      this.#retry();
    }
  }

  #open(socket: WebSocket, url: string): void {
    this.#socket = socket;
    let opened = false;
    let status: number | undefined;
    this.#track(
      new Promise<void>((resolve) => {
        socket.onclose = (event) => {
          resolve();
          if (socket !== this.#socket) return;
          this.#socket = undefined;
          this.#keepalive.stop();
          this.#onClose(event, opened, status, url);
        };
      }),
    );
    socket.onerror = (event) => {
      status ??= statusFromErrorMessage((event as ErrorEvent).message);
    };
    socket.onopen = () => {
      opened = true;
      this.#authFailures = 0;
      this.#setState("open");
      this.#keepalive.start();
    };
    let first = true;
    socket.onmessage = (event) => {
      if (socket === this.#socket) this.#onFrame(event.data, first);
      first = false;
    };
  }

  #onClose(
    event: CloseEvent,
    opened: boolean,
    status: number | undefined,
    url: string,
  ): void {
    const terminal = TERMINAL_CLOSES[event.code];
    if (terminal) {
      const reason = event.reason || terminal;
      this.#finish({ code: event.code, reason }, {
        code: terminal,
        message: `the server closed the connection: ${reason}`,
        closeCode: event.code,
      });
    } else if (opened) {
      this.#retry();
    } else {
      void this.#failedBeforeOpen(event.code, status, url);
    }
  }

  /** Counts a failure before open against the token unless it was an outage. */
  async #failedBeforeOpen(
    code: number,
    status: number | undefined,
    url: string,
  ): Promise<void> {
    const generation = this.#generation;
    const controller = this.#probe = new AbortController();
    const verdict = await this.#track(
      classifyFailure(status, url, this.#settings, controller),
    );
    if (generation !== this.#generation) return;
    this.#probe = undefined;
    if (verdict !== "outage") this.#authFailures++;
    if (this.#authFailures < this.#settings.maxAuthFailures) {
      return this.#retry();
    }
    // Deno reports 0 for a socket that never opened, browsers 1006.
    const closeCode = code || 1006;
    this.#finish({ code: closeCode, reason: "unauthorized" }, {
      code: "unauthorized",
      message: verdict === "unauthorized"
        ? "the gateway refused the token (HTTP 401)"
        : "the gateway kept refusing the connection: the token is likely invalid",
      closeCode,
    });
  }

  #onFrame(data: unknown, first: boolean): void {
    this.#keepalive.alive();
    let frame: ServerFrame;
    try {
      if (typeof data !== "string") throw new TypeError("binary frame");
      frame = JSON.parse(data);
      if (typeof frame?.type !== "string") throw new TypeError("no type");
    } catch (error) {
      const message = `unreadable frame: ${messageOf(error)}`;
      return this.#emit("error", { code: "bad_frame", message, cause: error });
    }
    if (frame.type === "welcome") {
      if (!first) return; // only a connection's first frame is its welcome
      const { connId, nodeId, userId, seq, epoch, recovered } = frame;
      this.#seqs.welcome(seq, epoch, recovered);
      this.#attempt = 0;
      this.#welcome = { connId, nodeId, userId, seq, epoch, recovered };
      this.#emit("welcome", { ...this.#welcome });
    } else if (frame.type === "error") {
      this.#emit("error", { code: frame.code, message: frame.message });
    } else if (frame.type === "message") {
      const { seq, id, data, ts, broadcast } = frame;
      if (seq !== undefined && !this.#seqs.accept(seq)) return;
      const message: WsgwMessage = seq === undefined
        ? { id, data, ts }
        : { seq, id, data, ts };
      if (broadcast) message.broadcast = true;
      this.#emit("message", message);
    } // pong only proved liveness; unknown types are newer frames: ignored
  }

  #dead(): void {
    // A dead peer may never finish the close handshake: do not wait for it.
    this.#drop(CLOSE_TIMEOUT, "ping timeout");
    this.#retry();
  }

  /** Forgets the current socket (its events no longer count) and closes it. */
  #drop(code: number, reason: string): void {
    this.#keepalive.stop();
    const socket = this.#socket;
    if (socket === undefined) return;
    this.#socket = undefined;
    try {
      if (socket.readyState < 2) socket.close(code, reason);
    } catch (error) {
      // Its close event still comes and settles the pending entry.
      const message = `closing the socket failed: ${messageOf(error)}`;
      this.#emit("error", { code: "socket", message, cause: error });
    }
  }

  #retry(): void {
    const { minDelay, maxDelay, random, timers } = this.#settings;
    this.#setState("connecting");
    const delay = backoffDelay(this.#attempt++, minDelay, maxDelay, random);
    this.#retryTimer = timers.setTimeout(() => void this.#dial(), delay);
  }

  #finish(closed: WsgwClosed, error?: WsgwError): void {
    this.#settings.timers.clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#keepalive.stop();
    if (error) this.#emit("error", error);
    this.#setState("closed");
    this.#emit("closed", closed);
  }

  #settled(): Promise<void> {
    if (this.#pending.size === 0) return Promise.resolve();
    const { timers, pongTimeout } = this.#settings;
    let timer: unknown;
    const bound = new Promise<void>((resolve) => {
      timer = timers.setTimeout(resolve, pongTimeout);
    });
    return Promise.race([Promise.all(this.#pending), bound]).then(() => {
      timers.clearTimeout(timer);
    });
  }

  #track<T>(promise: Promise<T>): Promise<T> {
    this.#pending.add(promise);
    const forget = () => this.#pending.delete(promise);
    promise.then(forget, forget);
    return promise;
  }

  #setState(state: WsgwState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#emit("state", state);
  }

  #emit<K extends keyof WsgwClientEventMap>(
    type: K,
    detail: WsgwClientEventMap[K]["detail"],
  ): void {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
