/**
 * The public types of the wsgw client: options, states, events and their
 * payloads. Kept apart from the class so every module can name them.
 *
 * @module
 */

/**
 * `connecting` (dialing, waiting for the welcome, or waiting to retry),
 * `connected` (welcomed: messages flow), or `closed` (stopped for good).
 */
export type WsgwState = "connecting" | "connected" | "closed";

/** A delivered message; `seq` is absent on broadcasts and live-only pushes. */
export type WsgwMessage<T = unknown> = {
  seq?: number;
  id: string;
  data: T;
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

/** Detail of the `connected` event: the welcome, plus what the client asked for. */
export type WsgwConnected = WsgwWelcome & {
  /**
   * True when this connection resumed a position (`since`/`epoch`): then
   * `recovered: false` means history was lost, not a fresh start.
   */
  wasRecovering: boolean;
};

/** Detail of the `connecting` event: a connection attempt is scheduled. */
export type WsgwConnecting = {
  /** 1 for the first attempt after a healthy connection or `connect()`. */
  attempt: number;
  /** Milliseconds before the attempt dials (0: at once). */
  delay: number;
  /** Why the wait is this long: backoff, or the server's `Retry-After`. */
  cause: "connect" | "backoff" | "retry-after" | "online" | "resume";
};

/** Detail of the `disconnected` event: one socket ended, the client goes on. */
export type WsgwDisconnected = {
  /** The WebSocket close code (1006: no close frame; 3008: dead or timed out). */
  code: number;
  reason: string;
  /** False when the socket failed before the welcome. */
  wasConnected: boolean;
};

/** Detail of the `reset` event: the user's history restarted under `epoch`. */
export type WsgwReset = { epoch: string; previousEpoch: string | undefined };

/** Detail of the `gap` event: messages `from..to` (inclusive) are lost. */
export type WsgwGap = { from: number; to: number };

/**
 * Every `error` event's `code`:
 * - `unauthorized`: the gateway answered 401 to a fresh token (terminal);
 * - `token_stopped`: the token function threw a {@link WsgwStopError} (terminal);
 * - `evicted` (close 4001) and `disconnected` (close 4003): terminal;
 * - `token`: the token function failed or returned no token (retried);
 * - `token_timeout`: the token function did not settle in `tokenTimeout` (retried);
 * - `token_refresh`: a token refresh on the live connection was refused
 *   (the connection goes on until the token expires, then reconnects);
 * - `handshake_timeout`: no welcome within `handshakeTimeout` (retried);
 * - `refused`: the gateway answered the failed upgrade with a status that
 *   is no outage (403, 400…; retried with backoff, see `status`);
 * - `socket`: the WebSocket could not be created or closed;
 * - `bad_frame`: the server sent something unreadable;
 * - `server`: a server `error` frame (its code is in `serverCode`).
 */
export type WsgwErrorCode =
  | "unauthorized"
  | "token_stopped"
  | "evicted"
  | "disconnected"
  | "token"
  | "token_timeout"
  | "token_refresh"
  | "handshake_timeout"
  | "refused"
  | "socket"
  | "bad_frame"
  | "server";

/** Detail of an `error` event. Never contains the token. */
export type WsgwError = {
  code: WsgwErrorCode;
  message: string;
  /** The WebSocket close code, when a close caused the error. */
  closeCode?: number;
  /** The HTTP status of a refused upgrade, when the client could read it. */
  status?: number;
  /** The `code` of a server `error` frame (`code: "server"` or `token_refresh`). */
  serverCode?: string;
  cause?: unknown;
};

/** Detail of the `closed` event: why the client stopped for good. */
export type WsgwClosed = { code: number; reason: string };

/** The events a `WsgwClient` dispatches, all `CustomEvent`s. */
export type WsgwClientEventMap<T = unknown> = {
  message: CustomEvent<WsgwMessage<T>>;
  state: CustomEvent<WsgwState>;
  connecting: CustomEvent<WsgwConnecting>;
  connected: CustomEvent<WsgwConnected>;
  disconnected: CustomEvent<WsgwDisconnected>;
  welcome: CustomEvent<WsgwWelcome>;
  reset: CustomEvent<WsgwReset>;
  gap: CustomEvent<WsgwGap>;
  error: CustomEvent<WsgwError>;
  closed: CustomEvent<WsgwClosed>;
};

/** The name of an event of {@link WsgwClientEventMap}. */
export type WsgwEventName = keyof WsgwClientEventMap;

/** What the token function is told about the call. */
export type WsgwTokenContext = {
  /**
   * `connect`: before a connection attempt; `unauthorized`: the previous
   * token got a 401, fetch a new one (do not return a cached token);
   * `refresh`: the current token expires soon, the connection stays up.
   */
  reason: "connect" | "unauthorized" | "refresh";
  /** Aborted when the call timed out or the client was closed. */
  signal: AbortSignal;
};

/**
 * A token, or a function fetching a fresh one. Throw a `WsgwStopError` from
 * the function to stop the client for good (e.g. the user logged out).
 */
export type WsgwToken =
  | string
  | ((context: WsgwTokenContext) => string | Promise<string>);

/** The timer functions the client uses; `globalThis` fits. */
export type WsgwTimers = {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
};

/** Where browser lifecycle events come from; `globalThis` in a browser. */
export type WsgwEnvironment = {
  addEventListener(type: string, listener: () => void): void;
  removeEventListener(type: string, listener: () => void): void;
  /** `navigator.onLine`; undefined where unknown (Node, Deno). */
  online(): boolean | undefined;
  /** `document.visibilityState === "visible"`; undefined without a document. */
  visible(): boolean | undefined;
};

/** A WebSocket constructor (the global one fits). */
export type WsgwWebSocketClass = new (
  url: string,
  protocols?: string | string[],
) => WebSocket;

/** Options of `WsgwClient`. Durations are in milliseconds. */
export type WsgwClientOptions = {
  /** The gateway's `/ws` URL (`ws:`/`wss:`; `http:`/`https:` are converted). */
  url: string | URL;
  /** The JWT, or a function returning one (see {@link WsgwToken}). */
  token: WsgwToken;
  /**
   * How the token reaches the gateway: `protocol` (a WebSocket subprotocol,
   * never in a URL or a log) or `query` (`?token=`, for old gateways).
   * @default "protocol"
   */
  tokenTransport?: "protocol" | "query";
  /** Backoff base: retry `n` waits `random(0, min(maxDelay, minDelay * 2^n))`. @default 500 */
  minDelay?: number;
  /** Backoff cap. @default 30000 */
  maxDelay?: number;
  /** A connection welcomed this long ago resets the backoff. @default 10000 */
  stableAfter?: number;
  /** Time from the last frame received to the client's `ping`. @default 10000 */
  pingInterval?: number;
  /** After a ping, the connection is dead if no frame arrives within this. @default 5000 */
  pongTimeout?: number;
  /** From dialing to the welcome frame, at most this long. @default 10000 */
  handshakeTimeout?: number;
  /** A token function call may take this long. @default 10000 */
  tokenTimeout?: number;
  /**
   * With a token function: fetch a new token this long before the current
   * one's `exp` and hand it to the live connection. @default 60000
   */
  refreshBefore?: number;
  /** Consecutive 401s (each with a fresh token) that stop the client. @default 2 */
  maxAuthFailures?: number;
  /** Probe the URL over HTTP after a failure before open, to read the refusal. @default true */
  probe?: boolean;
  /** Resume from a seq saved earlier (with its `epoch`); `0` replays the retained history. */
  since?: number;
  /** The epoch `since` refers to (from a previous `welcome`). */
  epoch?: string;
  /** WebSocket constructor (tests, old runtimes). @default globalThis.WebSocket */
  WebSocket?: WsgwWebSocketClass;
  /** fetch used by the probe (tests). @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Uniform random numbers in [0, 1) for the jitter (tests). @default Math.random */
  random?: () => number;
  /** Timer source (tests). @default globalThis's setTimeout/clearTimeout */
  timers?: WsgwTimers;
  /** Clock in ms, for token expiry (tests). @default Date.now */
  now?: () => number;
  /** Browser lifecycle source (tests). @default globalThis, navigator, document */
  environment?: WsgwEnvironment;
};
