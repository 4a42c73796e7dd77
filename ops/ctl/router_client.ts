/**
 * ctl's calls to the push API of a router: one timeout per call, and
 * failures as one-line {@link CtlError}s that say what to check.
 *
 * @module
 */
import { CtlError, oneLine } from "./errors.ts";

/** Calls one router with one API key. */
export class RouterClient {
  readonly url: string;
  readonly #apiKey: string;
  readonly #timeoutMs: number;

  constructor(url: string, apiKey: string, timeoutMs = 10_000) {
    this.url = url;
    this.#apiKey = apiKey;
    this.#timeoutMs = timeoutMs;
  }

  /**
   * Sends a request and returns the JSON answer.
   *
   * @throws {CtlError} when the router cannot be reached or does not answer 2xx.
   */
  async call<T>(
    method: "GET" | "POST",
    path: string,
    body?: unknown,
  ): Promise<T> {
    let response: Response;
    try {
      response = await fetch(this.url + path, {
        method,
        headers: {
          authorization: `Bearer ${this.#apiKey}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      throw new CtlError(
        `router at ${this.url} is unreachable (${
          oneLine(error)
        }): is the cluster running? Check WSGW_ROUTER, --router or the state file`,
        1,
        { cause: error },
      );
    }
    const text = await response.text();
    if (!response.ok) {
      let detail = text.slice(0, 300);
      try {
        const parsed = JSON.parse(text) as {
          error?: { code?: string; message?: string };
        };
        if (parsed.error?.message) {
          detail = `${parsed.error.code}: ${parsed.error.message}`;
        }
      } catch {
        // not our JSON error body: show the text as it is
      }
      const check = response.status === 401 || response.status === 403
        ? " (check WSGW_API_KEY, --api-key or the state file)"
        : "";
      throw new CtlError(
        `router answered ${method} ${
          path.split("?")[0]
        } with ${response.status}: ${detail}${check}`,
      );
    }
    return JSON.parse(text) as T;
  }
}
