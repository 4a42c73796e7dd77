/**
 * What the end of a connection or of an attempt means to the client, as the
 * error it reports and, when it stops for good, the close: a close meaning
 * "go away" (evicted, disconnected), a token function asking to stop, a
 * failed token call, too many 401s in a row, a refused upgrade. The dialer
 * decides when; this module says what is reported.
 *
 * @module
 */
import type { CLOSE } from "../shared/protocol.ts";
import { TokenTimeoutError, type WsgwStopError } from "./_errors.ts";
import type { WsgwClosed, WsgwError } from "./_types.ts";

// Typed against shared/protocol.ts (type-only: the built module imports nothing).
const EVICTED: typeof CLOSE.evicted.code = 4001;
const DISCONNECTED: typeof CLOSE.disconnected.code = 4003;
/** Closes after which the server wants the client gone: no reconnect. */
const TERMINAL_CLOSES: Record<number, "evicted" | "disconnected"> = {
  [EVICTED]: "evicted",
  [DISCONNECTED]: "disconnected",
};

/** The client stops for good: its `closed` detail and the error before it. */
export type Stop = { closed: WsgwClosed; error: WsgwError };

/** The stop a close from the server means; undefined: reconnect. */
export function terminalClose(code: number, reason: string): Stop | undefined {
  const terminal = TERMINAL_CLOSES[code];
  if (!terminal) return undefined;
  const why = reason || terminal;
  return {
    closed: { code, reason: why },
    error: {
      code: terminal,
      message: `the server closed the connection: ${why}`,
      closeCode: code,
    },
  };
}

/** The stop a token function asks for by throwing {@link WsgwStopError}. */
export function tokenStop(error: WsgwStopError): Stop {
  return {
    closed: { code: 1000, reason: "token stopped" },
    error: { code: "token_stopped", message: error.message, cause: error },
  };
}

/** The error of a failed token call (the client tries again). */
export function tokenError(error: unknown): WsgwError {
  const code = error instanceof TokenTimeoutError ? "token_timeout" : "token";
  const message = code === "token"
    ? `the token function failed: ${messageOf(error)}`
    : messageOf(error);
  return { code, message, cause: error };
}

/** The stop after too many upgrades refused with 401 in a row. */
export function unauthorizedStop(code: number): Stop {
  // Deno reports 0 for a socket that never opened, browsers 1006.
  const closeCode = code || 1006;
  return {
    closed: { code: closeCode, reason: "unauthorized" },
    error: {
      code: "unauthorized",
      message: "the gateway refused the token (HTTP 401)",
      closeCode,
      status: 401,
    },
  };
}

/** The error of an upgrade refused with another readable status. */
export function refusedError(status: number | undefined): WsgwError {
  return {
    code: "refused",
    message: `the gateway refused the connection (HTTP ${status})`,
    status,
  };
}

/** The message of anything thrown. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
