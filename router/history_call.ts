/**
 * One call to the history from a push-API route: a failure becomes 503
 * `history_unavailable` and is counted. Used by the push and messages
 * routes and by the idempotency of push ids.
 *
 * @module
 */
import { HistoryFullError } from "../shared/errors.ts";
import type { History } from "../shared/history/mod.ts";
import type { RouterDeps } from "./deps.ts";
import { HistoryUnavailableError } from "./errors.ts";

/**
 * Runs one history operation, turning a failure into 503 `history_unavailable`
 * and counting it in `wsgw_history_errors_total{op}`.
 */
export async function historyCall<T>(
  deps: Pick<RouterDeps, "metrics">,
  op: keyof History & string,
  call: () => Promise<T>,
): Promise<T> {
  try {
    return await call();
  } catch (error) {
    deps.metrics.historyErrors.inc({ op });
    // Other causes may name hosts; a full Redis is worth saying as such.
    const full = error instanceof HistoryFullError;
    throw new HistoryUnavailableError(
      `history ${op} failed${
        full ? ": Redis is full (maxmemory reached)" : ""
      }`,
      { cause: error },
    );
  }
}
