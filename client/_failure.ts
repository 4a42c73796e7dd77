/**
 * Reading why a WebSocket failed before its welcome. Browsers hide the
 * status of a refused upgrade (the socket just closes with 1006), so the
 * client asks the same URL once over plain HTTP, in CORS mode with the token
 * in an `Authorization` header: the gateway answers every refusal with CORS
 * headers and exposes `Retry-After`, so the status and the wait are
 * readable from any origin. Nothing unreadable ever counts as a refusal.
 *
 * @module
 */

import { probeUrl } from "./_connect_url.ts";
import type { Settings } from "./_settings.ts";

/**
 * What a failure before the welcome was: `unauthorized` (a 401 seen),
 * `refused` (another readable status that is no outage: 400, 403…),
 * `accepted` (the token passes now: the socket failed on the way), or
 * `outage` (no readable answer, 5xx or 429: retry, honouring `retryAfter`).
 */
export type FailureVerdict = {
  kind: "unauthorized" | "refused" | "accepted" | "outage";
  status?: number;
  /** Milliseconds the server asked to wait (`Retry-After`). */
  retryAfter?: number;
};

/**
 * The HTTP status in a WebSocket error message, when the runtime puts one
 * there (Deno: "Invalid status code: 401"); browsers never do.
 */
export function statusFromErrorMessage(message: unknown): number | undefined {
  if (typeof message !== "string") return undefined;
  const match = /status code:? (\d{3})\b/i.exec(message);
  return match ? Number(match[1]) : undefined;
}

/** Maps the status of a refused upgrade to a verdict. */
export function verdictOfStatus(
  status: number,
  retryAfter?: number,
): FailureVerdict {
  if (status === 401) return { kind: "unauthorized", status };
  // A draining (503) or overloaded node is an outage of that node: another
  // attempt may land elsewhere, and it says nothing about the token.
  if (status >= 500 || status === 429 || status === 0) {
    return retryAfter === undefined
      ? { kind: "outage", status }
      : { kind: "outage", status, retryAfter };
  }
  // 426: the token passed and the route wants an upgrade: the socket broke
  // on the way (a proxy, a race with the rate limit), not on the token.
  if (status === 426) return { kind: "accepted", status };
  return { kind: "refused", status };
}

/** `Retry-After` in milliseconds: delta-seconds or an HTTP date. */
export function parseRetryAfter(
  value: string | null,
  now: number,
): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * GETs the upgrade URL without upgrading, in CORS mode. Rejections (network
 * error, CORS refused, abort, timeout) are an outage: an answer the client
 * cannot read never counts against the token.
 */
export async function probeUpgradeUrl(
  url: string,
  token: string | undefined,
  fetchFn: typeof fetch,
  signal: AbortSignal,
  now: number,
): Promise<FailureVerdict> {
  let response: Response;
  try {
    response = await fetchFn(url, {
      mode: "cors",
      credentials: "omit",
      cache: "no-store",
      headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
      signal,
    });
  } catch {
    return { kind: "outage" };
  }
  await response.body?.cancel().catch(() => undefined);
  if (response.type === "opaque") return { kind: "outage" };
  return verdictOfStatus(
    response.status,
    parseRetryAfter(response.headers.get("retry-after"), now),
  );
}

/**
 * The verdict on a socket that closed before its welcome: a 401 the runtime
 * reported is final; else a probe bounded by `pongTimeout` (abort
 * `controller` to give up early); else the runtime's status; else `outage`.
 * `token` goes in the probe's `Authorization` header (undefined when the
 * URL carries it already).
 */
export async function classifyFailure(
  status: number | undefined,
  socketUrl: string,
  token: string | undefined,
  settings: Pick<
    Settings,
    "fetch" | "probe" | "pongTimeout" | "timers" | "now"
  >,
  controller: AbortController,
): Promise<FailureVerdict> {
  if (status === 401) return verdictOfStatus(status);
  const { fetch, probe, pongTimeout, timers, now } = settings;
  const fallback = status === undefined
    ? { kind: "outage" as const }
    : verdictOfStatus(status);
  if (!probe || !fetch) return fallback;
  const timer = timers.setTimeout(() => controller.abort(), pongTimeout);
  try {
    const verdict = await probeUpgradeUrl(
      probeUrl(socketUrl),
      token,
      fetch,
      controller.signal,
      now(),
    );
    return verdict.status === undefined ? fallback : verdict;
  } finally {
    timers.clearTimeout(timer);
  }
}
