/**
 * Deadlines of one fixed length that share a timer. A busy backend client
 * bounds every call; with {@link deadline} each call armed a timer of its own
 * and raced two promises, which cost the router ~5% of its CPU and ~8% of
 * its allocations at push rates (three Redis calls per push).
 *
 * @module
 */
import { DeadlineError } from "./deadline.ts";

/** What expires in one slot: the reject functions of its calls. */
type Slot = Set<() => void>;

/**
 * Bounds calls to `ms`, give or take `tickMs`: calls are grouped in slots of
 * `tickMs`, and one timer runs while any call is pending.
 *
 * @example
 * ```ts
 * const deadlines = new DeadlineWheel(2000);
 * const reply = await deadlines.bound(client.get("k"), "get");
 * ```
 */
export class DeadlineWheel {
  readonly #ms: number;
  readonly #tickMs: number;
  /** Slot number → its calls; insertion order is expiry order. */
  readonly #slots = new Map<number, Slot>();
  #pending = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** @param tickMs how late a deadline may fire. @default ms / 20 */
  constructor(ms: number, tickMs = Math.max(1, Math.round(ms / 20))) {
    this.#ms = ms;
    this.#tickMs = tickMs;
  }

  /** Settles like `promise`, or rejects with a DeadlineError once the time is up. */
  bound<T>(promise: Promise<T>, what: string): Promise<T> {
    const number = Math.ceil((performance.now() + this.#ms) / this.#tickMs);
    let slot = this.#slots.get(number);
    if (!slot) this.#slots.set(number, slot = new Set());
    const calls = slot;
    return new Promise<T>((resolve, reject) => {
      const expire = () => reject(new DeadlineError(what, this.#ms));
      calls.add(expire);
      this.#pending += 1;
      this.#arm();
      const settle = () => {
        // Expired calls are gone from their slot already.
        if (calls.delete(expire)) this.#settled();
      };
      promise.then((value) => {
        settle();
        resolve(value);
      }, (error) => {
        settle();
        reject(error);
      });
    });
  }

  #settled(): void {
    this.#pending -= 1;
    // Nothing left to watch: no timer keeps the process (or a test) alive.
    if (this.#pending === 0) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#slots.clear();
    }
  }

  #arm(): void {
    this.#timer ??= setTimeout(() => this.#sweep(), this.#tickMs);
  }

  #sweep(): void {
    this.#timer = undefined;
    const now = performance.now() / this.#tickMs;
    for (const [number, calls] of this.#slots) {
      if (number > now) break;
      this.#slots.delete(number);
      this.#pending -= calls.size;
      for (const expire of calls) expire();
    }
    if (this.#pending > 0) this.#arm();
    else this.#slots.clear();
  }
}
