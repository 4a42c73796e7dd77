/**
 * Validates {@link WsgwClientOptions} once, filling in the defaults.
 *
 * @module
 */
import type {
  WsgwClientOptions,
  WsgwEnvironment,
  WsgwTimers,
  WsgwToken,
  WsgwWebSocketClass,
} from "./_types.ts";

/** The options with every default applied. */
export type Settings = {
  token: WsgwToken;
  tokenTransport: "protocol" | "query";
  minDelay: number;
  maxDelay: number;
  stableAfter: number;
  pingInterval: number;
  pongTimeout: number;
  handshakeTimeout: number;
  tokenTimeout: number;
  refreshBefore: number;
  maxAuthFailures: number;
  probe: boolean;
  WebSocket: WsgwWebSocketClass;
  fetch: typeof fetch | undefined;
  random: () => number;
  timers: WsgwTimers;
  now: () => number;
  environment: WsgwEnvironment;
};

const DEFAULT_TIMERS: WsgwTimers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as number),
};

type Global = {
  addEventListener?: (type: string, listener: () => void) => void;
  removeEventListener?: (type: string, listener: () => void) => void;
  navigator?: { onLine?: boolean };
  document?: {
    visibilityState?: string;
    addEventListener?: (type: string, listener: () => void) => void;
    removeEventListener?: (type: string, listener: () => void) => void;
  };
};

/**
 * The browser's lifecycle: `online`/`offline` on the window and
 * `visibilitychange` on the document. Where they do not exist (Node, Deno
 * without a document) nothing is listened to.
 */
function defaultEnvironment(): WsgwEnvironment {
  const g = globalThis as unknown as Global;
  // Deno has a window-like globalThis but never fires these events.
  const target = (type: string) => type === "visibilitychange" ? g.document : g;
  return {
    addEventListener(type, listener) {
      target(type)?.addEventListener?.(type, listener);
    },
    removeEventListener(type, listener) {
      target(type)?.removeEventListener?.(type, listener);
    },
    online: () =>
      typeof g.navigator?.onLine === "boolean" ? g.navigator.onLine : undefined,
    visible: () =>
      g.document?.visibilityState === undefined
        ? undefined
        : g.document.visibilityState === "visible",
  };
}

type DurationName =
  | "minDelay"
  | "maxDelay"
  | "stableAfter"
  | "pingInterval"
  | "pongTimeout"
  | "handshakeTimeout"
  | "tokenTimeout"
  | "refreshBefore"
  | "maxAuthFailures";

/** @throws {TypeError} naming the option that is missing or invalid. */
export function parseSettings(options: WsgwClientOptions): Settings {
  const { token, since } = options;
  if (typeof token !== "function" && (typeof token !== "string" || !token)) {
    throw new TypeError("token must be a non-empty string or a function");
  }
  if (since !== undefined && !(Number.isSafeInteger(since) && since >= 0)) {
    throw new TypeError(`since must be a non-negative integer, got ${since}`);
  }
  const transport = options.tokenTransport ?? "protocol";
  if (transport !== "protocol" && transport !== "query") {
    throw new TypeError(
      `tokenTransport must be "protocol" or "query", got ${transport}`,
    );
  }
  const WebSocket = options.WebSocket ?? globalThis.WebSocket;
  if (typeof WebSocket !== "function") {
    throw new TypeError(
      "WebSocket is not available (Node < 22?): pass the WebSocket option",
    );
  }
  const positive = (name: DurationName, fallback: number): number => {
    const value = options[name] ?? fallback;
    if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
      throw new TypeError(`${name} must be a positive number, got ${value}`);
    }
    return value;
  };
  return {
    token,
    tokenTransport: transport,
    minDelay: positive("minDelay", 500),
    maxDelay: positive("maxDelay", 30_000),
    stableAfter: positive("stableAfter", 10_000),
    pingInterval: positive("pingInterval", 10_000),
    pongTimeout: positive("pongTimeout", 5_000),
    handshakeTimeout: positive("handshakeTimeout", 10_000),
    tokenTimeout: positive("tokenTimeout", 10_000),
    refreshBefore: positive("refreshBefore", 60_000),
    maxAuthFailures: positive("maxAuthFailures", 2),
    probe: options.probe ?? true,
    WebSocket,
    fetch: options.fetch ?? globalThis.fetch?.bind(globalThis),
    random: options.random ?? Math.random,
    timers: options.timers ?? DEFAULT_TIMERS,
    now: options.now ?? Date.now,
    environment: options.environment ?? defaultEnvironment(),
  };
}
