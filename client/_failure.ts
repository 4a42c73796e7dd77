/**
 * Telling an HTTP 401 from an outage when a WebSocket fails before `open`.
 * Browsers hide the status of a refused upgrade (the socket just closes with
 * 1006), so the client asks the same URL once over plain HTTP: any answer
 * proves the server is up and refused the socket; no answer is an outage.
 *
 * @module
 */

import { probeUrl } from "./_connect_url.ts";
import type { Settings } from "./_settings.ts";

/**
 * What a failure before `open` most likely was: `unauthorized` (a 401 seen),
 * `refused` (the server answered but the status is not readable or says
 * nothing more), `outage` (no answer, or 5xx/429: retry without counting).
 */
export type FailureVerdict = "unauthorized" | "refused" | "outage";

/**
 * The HTTP status in a WebSocket error message, when the runtime puts one
 * there (Deno: "Invalid status code: 401"); browsers never do.
 */
export function statusFromErrorMessage(message: unknown): number | undefined {
  if (typeof message !== "string") return undefined;
  const match = /status code:? (\d{3})\b/i.exec(message);
  return match ? Number(match[1]) : undefined;
}

/** Maps the status of a refused upgrade (0: opaque answer) to a verdict. */
export function verdictOfStatus(status: number): FailureVerdict {
  if (status === 401) return "unauthorized";
  // A draining (503) or overloaded node is an outage of that node: another
  // attempt may land elsewhere, and it says nothing about the token.
  if (status >= 500 || status === 429) return "outage";
  return "refused";
}

/**
 * GETs the upgrade URL without upgrading. `no-cors`: a cross-origin answer
 * is opaque (status 0) but still proves the server answered. Rejections
 * (network error, abort, timeout) are an outage.
 */
export async function probeUpgradeUrl(
  url: string,
  fetchFn: typeof fetch,
  signal: AbortSignal,
): Promise<FailureVerdict> {
  let response: Response;
  try {
    response = await fetchFn(url, {
      mode: "no-cors",
      credentials: "omit",
      cache: "no-store",
      signal,
    });
  } catch {
    // Unreachable, CORS-blocked in a runtime ignoring no-cors, or aborted:
    // nothing proves the token wrong, so it must not count against it.
    return "outage";
  }
  await response.body?.cancel().catch(() => undefined);
  return verdictOfStatus(response.status);
}

/**
 * The verdict on a socket that closed before `open`: from the status in its
 * error message when the runtime gave one, else from a probe bounded by
 * `pongTimeout` (abort `controller` to give up early), else `refused`.
 */
export async function classifyFailure(
  status: number | undefined,
  socketUrl: string,
  settings: Pick<Settings, "fetch" | "probe" | "pongTimeout" | "timers">,
  controller: AbortController,
): Promise<FailureVerdict> {
  if (status !== undefined) return verdictOfStatus(status);
  const { fetch, probe, pongTimeout, timers } = settings;
  if (!probe || !fetch) return "refused";
  const timer = timers.setTimeout(() => controller.abort(), pongTimeout);
  try {
    return await probeUpgradeUrl(probeUrl(socketUrl), fetch, controller.signal);
  } finally {
    timers.clearTimeout(timer);
  }
}
