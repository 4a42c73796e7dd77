/**
 * Getting a token: a static string, or the app's function called with a
 * reason and an abort signal, bounded by `tokenTimeout`. Also reads a JWT's
 * `exp` (without verifying: the gateway does that) to refresh in time.
 *
 * @module
 */
import type { Settings } from "./_settings.ts";
import { TokenTimeoutError } from "./_errors.ts";
import type { WsgwTokenContext } from "./_types.ts";

/**
 * The token for `reason`. Rejects with {@link TokenTimeoutError} after
 * `tokenTimeout`, with a `TypeError` when no non-empty string came, or with
 * whatever the function threw (a {@link WsgwStopError} included). `signal`
 * aborts the call (the client was closed).
 */
export async function fetchToken(
  settings: Pick<Settings, "token" | "tokenTimeout" | "timers">,
  reason: WsgwTokenContext["reason"],
  signal: AbortSignal,
): Promise<string> {
  const { token, tokenTimeout, timers } = settings;
  if (typeof token === "string") return token;
  const controller = new AbortController();
  let timer: unknown;
  let abort = () => {};
  // Settles with the first of: the timeout, the caller's abort.
  const bounded = new Promise<never>((_, reject) => {
    abort = () => {
      timers.clearTimeout(timer);
      controller.abort(signal.reason);
      reject(signal.reason);
    };
    timer = timers.setTimeout(() => {
      const error = new TokenTimeoutError(tokenTimeout);
      controller.abort(error);
      reject(error);
    }, tokenTimeout);
  });
  signal.addEventListener("abort", abort);
  try {
    const value = await Promise.race([
      Promise.resolve().then(() =>
        token({ reason, signal: controller.signal })
      ),
      bounded,
    ]);
    if (typeof value !== "string" || !value) {
      throw new TypeError("the token function returned no token");
    }
    return value;
  } finally {
    timers.clearTimeout(timer);
    signal.removeEventListener("abort", abort);
  }
}

/**
 * The `exp` of a JWT in ms since the epoch, or undefined when the token is
 * no JWT or has none. Only used to schedule a refresh.
 */
export function tokenExpiry(token: string): number | undefined {
  const part = token.split(".")[1];
  if (part === undefined) return undefined;
  try {
    const base64 = part.replace(/-/g, "+").replace(/_/g, "/");
    const json = atob(base64 + "=".repeat((4 - base64.length % 4) % 4));
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === "number" && Number.isFinite(exp)
      ? exp * 1000
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * When to refresh a token expiring at `expiresAt`: `refreshBefore` ahead,
 * but never earlier than half its remaining life (a short-lived token would
 * otherwise be refreshed in a loop).
 */
export function refreshDelay(
  expiresAt: number,
  now: number,
  refreshBefore: number,
): number {
  const left = expiresAt - now;
  return Math.max(0, Math.max(left - refreshBefore, left / 2));
}
