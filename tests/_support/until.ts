/**
 * Waiting on events, not on time: tests poll a predicate or wait for a promise
 * with a deadline, and fail with a message naming what never happened.
 *
 * @module
 */

/** Options of {@link waitFor}. */
export type WaitOptions = {
  /** Milliseconds before giving up. @default 5000 */
  timeout?: number;
  /** Milliseconds between checks. @default 10 */
  interval?: number;
  /** Names the awaited condition in the timeout error. */
  what?: string;
};

/**
 * Resolves with the first truthy value of `predicate`, checked repeatedly.
 *
 * @throws {Error} when `timeout` passes first.
 */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  options: WaitOptions = {},
): Promise<NonNullable<T>> {
  const { timeout = 5000, interval = 10, what = "condition" } = options;
  const deadline = Date.now() + timeout;
  let last: unknown;
  while (true) {
    try {
      const value = await predicate();
      if (value) return value as NonNullable<T>;
      last = undefined;
    } catch (error) {
      last = error;
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${what}`, {
        cause: last,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}

/** A free TCP port on 127.0.0.1: the launcher's, so there is one. */
export { freePort } from "../../ops/cluster/ports.ts";
