/**
 * Reconnect delays: exponential backoff with full jitter (AWS Architecture
 * Blog, "Exponential Backoff and Jitter"), so that thousands of clients
 * dropped by one node at once do not come back in step.
 *
 * @module
 */

/**
 * The delay before reconnect number `attempt` (0 for the first retry): a
 * uniformly random duration in `[0, min(maxDelay, minDelay * 2^attempt))`.
 */
export function backoffDelay(
  attempt: number,
  minDelay: number,
  maxDelay: number,
  random: () => number,
): number {
  const ceiling = Math.min(maxDelay, minDelay * 2 ** attempt);
  return Math.floor(random() * ceiling);
}
