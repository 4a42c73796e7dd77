/**
 * The bound on calls in flight to one node (node_client.ts): a counting
 * semaphore with a bounded FIFO queue, so a slow node makes callers wait in
 * line, and a stuck one makes them fail fast instead of piling up.
 *
 * @module
 */
import { NodeRequestError } from "../shared/node_request_error.ts";

/** A counting semaphore with a bounded FIFO queue. */
export class Gate {
  readonly #max: number;
  readonly #maxQueued: number;
  readonly #queue: (() => void)[] = [];
  inFlight = 0;

  constructor(max: number, maxQueued: number) {
    this.#max = max;
    this.#maxQueued = maxQueued;
  }

  get idle(): boolean {
    return this.inFlight === 0 && this.#queue.length === 0;
  }

  /** Takes a slot, waiting in line; fails when the line is full or `signal` aborts. */
  enter(nodeId: string, signal: AbortSignal, timeoutMs: number): Promise<void> {
    if (this.inFlight < this.#max) {
      this.inFlight += 1;
      return Promise.resolve();
    }
    if (this.#queue.length >= this.#maxQueued) {
      return Promise.reject(
        new NodeRequestError(
          nodeId,
          "overloaded",
          `${this.#queue.length} calls already waiting`,
        ),
      );
    }
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const index = this.#queue.indexOf(admit);
        if (index !== -1) this.#queue.splice(index, 1);
        reject(
          new NodeRequestError(
            nodeId,
            "timeout",
            `no free slot within ${timeoutMs} ms`,
          ),
        );
      };
      const admit = () => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.#queue.push(admit);
    });
  }

  /** Frees a slot, handing it straight to the next in line. */
  leave(): void {
    const next = this.#queue.shift();
    if (next) next();
    else this.inFlight -= 1;
  }
}
