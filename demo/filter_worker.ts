/**
 * A Web Worker that runs the filter jobs, one at a time, so decoding and
 * encoding a 2 MB image never stalls the event loop that serves pushes and
 * WebSockets (the embedded process is both).
 *
 * @module
 */
import type { FilterAnswer, FilterRequest } from "./_filter_worker_entry.ts";
import type { CoverInput, ProcessedCover } from "./cover_processor.ts";
import { ImageError } from "./image/image.ts";

const ENTRY = new URL("./_filter_worker_entry.ts", import.meta.url);

type Waiter = {
  resolve: (cover: ProcessedCover) => void;
  reject: (error: Error) => void;
};

/** Runs {@link processCover} in a worker started on first use. */
export class FilterWorker implements Disposable {
  #worker: Worker | undefined;
  #next = 0;
  readonly #waiting = new Map<number, Waiter>();

  /**
   * Filters one cover.
   *
   * @throws {ImageError} when the image is corrupt past its header.
   * @throws {Error} when the worker died or was disposed.
   */
  run(input: CoverInput): Promise<ProcessedCover> {
    const worker = this.#worker ??= this.#start();
    const id = ++this.#next;
    const { promise, resolve, reject } = Promise.withResolvers<
      ProcessedCover
    >();
    this.#waiting.set(id, { resolve, reject });
    const request: FilterRequest = { id, input };
    worker.postMessage(request);
    return promise;
  }

  /** Stops the worker; pending runs reject. */
  [Symbol.dispose](): void {
    this.#worker?.terminate();
    this.#worker = undefined;
    this.#failAll(new Error("the filter worker was stopped"));
  }

  #start(): Worker {
    const worker = new Worker(ENTRY, { type: "module" });
    worker.onmessage = (event: MessageEvent<FilterAnswer>) => {
      const answer = event.data;
      const waiter = this.#waiting.get(answer.id);
      if (!waiter) return;
      this.#waiting.delete(answer.id);
      if (answer.ok) waiter.resolve(answer.cover);
      else if (answer.image) waiter.reject(new ImageError(answer.message));
      else waiter.reject(new Error(`filter failed: ${answer.message}`));
    };
    worker.onerror = (event) => {
      event.preventDefault();
      // A crashed worker is replaced on the next run.
      worker.terminate();
      if (this.#worker === worker) this.#worker = undefined;
      this.#failAll(new Error(`the filter worker crashed: ${event.message}`));
    };
    return worker;
  }

  #failAll(error: Error): void {
    for (const waiter of this.#waiting.values()) waiter.reject(error);
    this.#waiting.clear();
  }
}
