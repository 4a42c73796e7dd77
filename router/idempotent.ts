/**
 * Push ids made idempotent through `History.reserve`: the first request
 * with an id does the work and stores its answer; later ones get that answer
 * and deliver nothing. While the history cannot be reached, the push still
 * goes out and its answer is remembered by this router replica only
 * ({@link RecentAnswers}).
 *
 * @module
 */
import type { RouterDeps } from "./deps.ts";
import { HistoryUnavailableError, PushInProgressError } from "./errors.ts";
import { historyCall } from "./history_call.ts";
import type { RecentAnswers } from "./recent_answers.ts";
import { Throttle } from "./throttle.ts";

/** How often a request waiting on a pending id asks again, in ms. */
const POLL_MS = 50;

/** While Redis is down every push fails to complete: one line says as much. */
const completeWarnings = new Throttle();

/** Options of {@link idempotent}. */
export type IdempotentOptions = {
  /**
   * The key was just made up by this router (a push without `id`): no other
   * request can hold it and no client can retry with it before the answer
   * names it, so neither the reservation nor the answer goes to the history
   * (one Redis write per push less). A client that wants a safe retry sends
   * its own `id`.
   * @default false
   */
  fresh?: boolean;
};

/**
 * Runs `work` once per `key` within the history TTL and returns its answer,
 * or the answer stored by an earlier run. When the history cannot be asked,
 * `work` runs anyway and `recent` keeps its answer: a retry reaching this
 * replica gets it, one reaching another replica pushes again.
 *
 * A `fresh` key is not made idempotent: `work` runs at once.
 *
 * @throws {PushInProgressError} when another request holds `key` for longer
 * than `pendingWaitMs`.
 */
export async function idempotent<T>(
  deps: Pick<RouterDeps, "history" | "log" | "metrics" | "pendingWaitMs">,
  key: string,
  work: () => Promise<T>,
  recent: RecentAnswers,
  { fresh = false }: IdempotentOptions = {},
): Promise<T> {
  const { history, log, metrics } = deps;
  if (fresh) return await work();
  const remembered = recent.get(key);
  if (remembered) return await remembered as T;
  const deadline = Date.now() + (deps.pendingWaitMs ?? 5000);
  while (true) {
    let reservation;
    try {
      reservation = await historyCall(
        deps,
        "reserve",
        () => history.reserve(key),
      );
    } catch (error) {
      if (!(error instanceof HistoryUnavailableError)) throw error;
      // Redis is down: deliver live rather than refuse the push. A request
      // with the same id may have got here first.
      const first = recent.get(key);
      if (first) return await first as T;
      return await recent.remember(key, work);
    }
    if (reservation.state === "done") return reservation.answer as T;
    if (reservation.state === "reserved") break;
    // Pending: another request (maybe on another router) is pushing this id.
    // It usually finishes within milliseconds; its answer is ours.
    if (Date.now() >= deadline) {
      throw new PushInProgressError(
        `a push with id "${key}" is still in progress; retry later`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }

  let answer: T;
  try {
    answer = await work();
  } catch (error) {
    await history.release(key).catch((releaseError) => {
      metrics.historyErrors.inc({ op: "release" });
      log.warn(
        "history release failed; the id stays reserved until it lapses",
        {
          error: releaseError,
        },
      );
    });
    throw error;
  }
  return await store(deps, key, answer, recent);
}

/**
 * Stores the answer of `key` in the history; when that fails, this replica
 * remembers it in `recent` instead. Returns `answer` either way: the push
 * went out, and failing it now would invite a retry that delivers twice.
 */
async function store<T>(
  deps: Pick<RouterDeps, "history" | "log" | "metrics">,
  key: string,
  answer: T,
  recent: RecentAnswers,
): Promise<T> {
  try {
    await deps.history.complete(key, answer);
  } catch (error) {
    // A reservation lapses, and the id becomes usable again elsewhere.
    deps.metrics.historyErrors.inc({ op: "complete" });
    if (completeWarnings.allow("complete")) {
      deps.log.warn("history complete failed; answering anyway", { error });
    }
    recent.remember(key, () => Promise.resolve(answer));
  }
  return answer;
}
