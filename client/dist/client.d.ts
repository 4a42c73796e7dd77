// Generated from client/wsgw_client.ts by `deno task build:client`.
// Do not edit: change the source and rebuild.
// deno-lint-ignore-file
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
/**
 * A self-healing connection to a wsgw gateway. Dispatches `message`,
 * `state`, `welcome`, `error` and `closed` (`CustomEvent`s, see
 * {@link WsgwClientEventMap}).
 */
export declare class WsgwClient extends EventTarget {
  #private;
  /** @throws {TypeError} naming the option that is missing or invalid. */
  constructor(options: WsgwClientOptions);
  /** The connection state. */
  get state(): WsgwState;
  /**
   * Where the next connection resumes (`since`): the highest `seq` delivered
   * in the current epoch, or the user's seq when this client first connected
   * without `since` (older history is not replayed to a new client).
   */
  get lastSeq(): number;
  /** The epoch of the user's history, from the last welcome. */
  get epoch(): string | undefined;
  /** The id of the current (or last) connection, from its welcome. */
  get connId(): string | undefined;
  /** The gateway node of the current (or last) connection. */
  get nodeId(): string | undefined;
  /** The user the token authenticated, from the last welcome. */
  get userId(): string | undefined;
  /** Starts connecting; does nothing unless the state is `closed`. */
  connect(): void;
  /**
   * Stops reconnecting and closes the socket with 1000. The promise settles
   * once the socket has closed (waiting at most `pongTimeout`).
   */
  close(): Promise<void>;
  /** Typed `addEventListener` for the events of {@link WsgwClientEventMap}. */
  addEventListener<K extends keyof WsgwClientEventMap>(
    type: K,
    listener: (event: WsgwClientEventMap[K]) => void,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  /** Typed `removeEventListener`, the counterpart of `addEventListener`. */
  removeEventListener<K extends keyof WsgwClientEventMap>(
    type: K,
    listener: (event: WsgwClientEventMap[K]) => void,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void;
}
