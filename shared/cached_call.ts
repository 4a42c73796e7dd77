/**
 * Probes (`/readyz`, the backend pings of `/metrics`) reach every process
 * from outside, as often as anyone likes: each would otherwise ping etcd and
 * Redis. {@link cachedCall} runs a call at most once per `ttlMs`; callers in
 * between share its result (a failure too), and callers during a run share
 * that run.
 *
 * @module
 */

/** How long a backend ping answers for, in probes and metrics. */
export const PING_CACHE_MS = 1000;

/** `call`, run at most once per `ttlMs`; its result is shared meanwhile. */
export function cachedCall<T>(
  call: () => Promise<T>,
  ttlMs: number,
  now: () => number = Date.now,
): () => Promise<T> {
  let last: { at: number; result: Promise<T> } | undefined;
  return () => {
    const t = now();
    if (last === undefined || t - last.at >= ttlMs) {
      const result = call();
      // A rejection shared later is handled by whoever awaits it.
      result.catch(() => {});
      last = { at: t, result };
    }
    return last.result;
  };
}
