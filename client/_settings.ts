/**
 * Validates {@link WsgwClientOptions} once, filling in the defaults.
 *
 * @module
 */
import type {
  WsgwClientOptions,
  WsgwTimers,
  WsgwToken,
} from "./wsgw_client.ts";

/** The options with every default applied. */
export type Settings = {
  token: WsgwToken;
  minDelay: number;
  maxDelay: number;
  pingInterval: number;
  pongTimeout: number;
  maxAuthFailures: number;
  probe: boolean;
  WebSocket: new (url: string) => WebSocket;
  fetch: typeof fetch | undefined;
  random: () => number;
  timers: WsgwTimers;
};

const DEFAULT_TIMERS: WsgwTimers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as number),
};

/** @throws {TypeError} naming the option that is missing or invalid. */
export function parseSettings(options: WsgwClientOptions): Settings {
  const { token, since } = options;
  if (typeof token !== "function" && (typeof token !== "string" || !token)) {
    throw new TypeError("token must be a non-empty string or a function");
  }
  if (since !== undefined && !(Number.isSafeInteger(since) && since >= 0)) {
    throw new TypeError(`since must be a non-negative integer, got ${since}`);
  }
  const WebSocket = options.WebSocket ?? globalThis.WebSocket;
  if (typeof WebSocket !== "function") {
    throw new TypeError(
      "WebSocket is not available: pass the WebSocket option",
    );
  }
  return {
    token,
    minDelay: positive(options, "minDelay", 500),
    maxDelay: positive(options, "maxDelay", 30_000),
    pingInterval: positive(options, "pingInterval", 25_000),
    pongTimeout: positive(options, "pongTimeout", 10_000),
    maxAuthFailures: positive(options, "maxAuthFailures", 3),
    probe: options.probe ?? true,
    WebSocket,
    fetch: options.fetch ?? globalThis.fetch?.bind(globalThis),
    random: options.random ?? Math.random,
    timers: options.timers ?? DEFAULT_TIMERS,
  };
}

function positive(
  options: WsgwClientOptions,
  name:
    | "minDelay"
    | "maxDelay"
    | "pingInterval"
    | "pongTimeout"
    | "maxAuthFailures",
  fallback: number,
): number {
  const value = options[name] ?? fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new TypeError(`${name} must be a positive number, got ${value}`);
  }
  return value;
}
