/**
 * Fakes for timing-only tests of the browser client: a manual timer source
 * and a WebSocket class the test opens, feeds and closes by hand. Plus an
 * event recorder for any `WsgwClient`.
 *
 * @module
 */
import type {
  WsgwClientEventMap,
  WsgwClosed,
  WsgwConnected,
  WsgwConnecting,
  WsgwDisconnected,
  WsgwError,
  WsgwGap,
  WsgwMessage,
  WsgwReset,
  WsgwState,
  WsgwTimers,
  WsgwWebSocketClass,
  WsgwWelcome,
} from "../../client/wsgw_client.ts";

/** Timers that only run when the test fires them. */
export class FakeTimers implements WsgwTimers {
  #next = 1;
  readonly #pending = new Map<number, { callback: () => void; ms: number }>();

  setTimeout(callback: () => void, ms: number): number {
    const id = this.#next++;
    this.#pending.set(id, { callback, ms });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.#pending.delete(handle as number);
  }

  /** The delays of the timers still pending, oldest first. */
  get pending(): number[] {
    return [...this.#pending.values()].map((t) => t.ms);
  }

  /** Runs the oldest pending timer with delay `ms`; throws when there is none. */
  fire(ms: number): void {
    for (const [id, timer] of this.#pending) {
      if (timer.ms !== ms) continue;
      this.#pending.delete(id);
      timer.callback();
      return;
    }
    throw new Error(`no pending ${ms} ms timer (pending: ${this.pending})`);
  }
}

/** A WebSocket driven by the test; `close()` by the client completes at once. */
export class FakeWebSocket extends EventTarget {
  readonly url: string;
  readonly protocols: string[];
  readyState = 0;
  readonly sent: string[] = [];
  onopen: ((event: Event) => void) | null = null;
  onmessage: ((event: MessageEvent) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;
  onclose: ((event: CloseEvent) => void) | null = null;

  constructor(url: string, protocols?: string | string[]) {
    super();
    this.url = url;
    this.protocols = protocols === undefined
      ? []
      : Array.isArray(protocols)
      ? protocols
      : [protocols];
  }

  send(data: string): void {
    if (this.readyState !== 1) throw new Error("not open");
    this.sent.push(data);
  }

  close(code = 1000, reason = ""): void {
    if (this.readyState >= 2) return;
    this.serverClose(code, reason);
  }

  /** The handshake succeeded. */
  open(): void {
    this.readyState = 1;
    this.onopen?.(new Event("open"));
  }

  /** A frame from the server. */
  receive(frame: unknown): void {
    this.onmessage?.(
      new MessageEvent("message", { data: JSON.stringify(frame) }),
    );
  }

  /** The connection ended (before open: a failed handshake). */
  serverClose(code: number, reason = ""): void {
    this.readyState = 3;
    this.onclose?.(new CloseEvent("close", { code, reason }));
  }
}

/** A WebSocket constructor for the client that records its instances. */
export function fakeWebSockets(): {
  WebSocket: WsgwWebSocketClass;
  instances: FakeWebSocket[];
} {
  const instances: FakeWebSocket[] = [];
  class Recorded extends FakeWebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols);
      instances.push(this);
    }
  }
  return {
    WebSocket: Recorded as unknown as WsgwWebSocketClass,
    instances,
  };
}

/** Everything a client dispatched, by event type, in order. */
export type ClientEvents = {
  states: WsgwState[];
  messages: WsgwMessage[];
  welcomes: WsgwWelcome[];
  connecting: WsgwConnecting[];
  connected: WsgwConnected[];
  disconnected: WsgwDisconnected[];
  resets: WsgwReset[];
  gaps: WsgwGap[];
  errors: WsgwError[];
  closed: WsgwClosed[];
};

/** Something that dispatches the client's events (source or built module). */
type Listenable = {
  addEventListener<K extends keyof WsgwClientEventMap>(
    type: K,
    listener: (event: WsgwClientEventMap[K]) => void,
  ): void;
};

/** Records the events of `client` (source or built module) from now on. */
export function recordEvents(client: Listenable): ClientEvents {
  const events: ClientEvents = {
    states: [],
    messages: [],
    welcomes: [],
    connecting: [],
    connected: [],
    disconnected: [],
    resets: [],
    gaps: [],
    errors: [],
    closed: [],
  };
  client.addEventListener("state", (e) => events.states.push(e.detail));
  client.addEventListener("message", (e) => events.messages.push(e.detail));
  client.addEventListener("welcome", (e) => events.welcomes.push(e.detail));
  client.addEventListener(
    "connecting",
    (e) => events.connecting.push(e.detail),
  );
  client.addEventListener("connected", (e) => events.connected.push(e.detail));
  client.addEventListener(
    "disconnected",
    (e) => events.disconnected.push(e.detail),
  );
  client.addEventListener("reset", (e) => events.resets.push(e.detail));
  client.addEventListener("gap", (e) => events.gaps.push(e.detail));
  client.addEventListener("error", (e) => events.errors.push(e.detail));
  client.addEventListener("closed", (e) => events.closed.push(e.detail));
  return events;
}

/**
 * A real WebSocket that hides the HTTP status of a refused upgrade from its
 * `error` event, as browsers do (Deno puts it in the message); counts dials.
 */
export function browserLikeWebSockets(): {
  WebSocket: WsgwWebSocketClass;
  dials: () => number;
} {
  let dials = 0;
  const onerror = Object.getOwnPropertyDescriptor(
    WebSocket.prototype,
    "onerror",
  )!;
  class BrowserLike extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols);
      dials++;
      Object.defineProperty(this, "onerror", {
        get: () => onerror.get!.call(this),
        set: (listener: ((event: Event) => void) | null) => {
          onerror.set!.call(
            this,
            listener && (() => listener.call(this, new Event("error"))),
          );
        },
      });
    }
  }
  return { WebSocket: BrowserLike, dials: () => dials };
}
