/**
 * A router's standing WebSocket to one node's `/internal/deliver-stream`
 * (gateway/deliver_stream.ts), which carries batches of deliveries without
 * an HTTP request each: at a few hundred pushes a second most batches hold
 * one push, and a `fetch` per batch was the largest cost of the router after
 * Redis.
 *
 * The channel never queues: while its socket is not open (first use, after a
 * close, or a node that does not serve the stream) {@link DeliverChannel.send}
 * answers `undefined` and the caller sends the batch over HTTP, while the
 * channel opens in the background. A socket that fails to open is not tried
 * again for {@link REOPEN_AFTER_MS}.
 *
 * @module
 */
import type {
  DeliverResult,
  DeliverStreamAnswer,
  DeliverStreamBatch,
} from "../shared/node_api.ts";
import type { NodeRecord } from "../shared/registry/mod.ts";
import { NodeRequestError } from "../shared/node_request_error.ts";

/** How long after a failed open (or an early close) the channel tries again. */
export const REOPEN_AFTER_MS = 1000;

/** Options of {@link DeliverChannel}. */
export type DeliverChannelOptions = {
  /** The internal secret, sent in the upgrade request. */
  secret: string;
  /** Milliseconds a batch may wait for its answer. */
  timeoutMs: number;
  /** Batches awaiting an answer; more fail as `overloaded`. */
  maxPending: number;
  /** Checks an answer's results (node_answers.ts); throws when they are not a node's. */
  check: (results: unknown, deliveries: number) => DeliverResult[];
  /** Called once the channel is closed for good by the node going away. */
  onGone?: () => void;
  /** @default `new WebSocket(url, { headers })` */
  connect?: (url: string, headers: Record<string, string>) => WebSocket;
};

type Pending = {
  deliveries: number;
  resolve: (results: DeliverResult[]) => void;
  reject: (error: unknown) => void;
  timer: ReturnType<typeof setTimeout>;
};

/** See the module doc. */
export class DeliverChannel {
  readonly #node: NodeRecord;
  readonly #options: DeliverChannelOptions;
  readonly #pending = new Map<number, Pending>();
  #socket: WebSocket | undefined;
  #open = false;
  #retryAt = 0;
  #nextBatch = 0;
  #disposed = false;

  constructor(node: NodeRecord, options: DeliverChannelOptions) {
    this.#node = node;
    this.#options = options;
  }

  /** Whether batches go over the socket now. */
  get isOpen(): boolean {
    return this.#open;
  }

  /**
   * Sends `deliveries` as one batch; `undefined` when the socket is not open
   * (send it over HTTP instead). The promise fails with a
   * {@link NodeRequestError}: `connection` when the socket closed before the
   * answer (the node may have written some of it), `timeout`, `overloaded`,
   * or `http` when the node refused the batch or answered nonsense.
   */
  send(deliveries: DeliverStreamBatch["deliveries"]):
    | Promise<DeliverResult[]>
    | undefined {
    if (!this.#open) {
      this.#openSoon();
      return undefined;
    }
    if (this.#pending.size >= this.#options.maxPending) {
      return Promise.reject(
        this.#error(
          "overloaded",
          `${this.#pending.size} batches already awaiting an answer`,
        ),
      );
    }
    const batch = this.#nextBatch++;
    const frame: DeliverStreamBatch = { batch, deliveries };
    const answered = new Promise<DeliverResult[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(batch);
        reject(
          this.#error(
            "timeout",
            `no answer within ${this.#options.timeoutMs} ms`,
          ),
        );
        // A socket that stopped answering may be dead without a close ever
        // arriving (a partition, a peer gone without FIN): never trust it
        // again. The next batch goes over HTTP, on a fresh connection.
        this.#drop(`stream silent for ${this.#options.timeoutMs} ms`);
      }, this.#options.timeoutMs);
      this.#pending.set(batch, {
        deliveries: deliveries.length,
        resolve,
        reject,
        timer,
      });
    });
    this.#socket!.send(JSON.stringify(frame));
    return answered;
  }

  /** Closes the socket; batches awaiting an answer fail as `connection`. */
  [Symbol.dispose](): void {
    this.#disposed = true;
    this.#socket?.close(1000, "router stopping");
    this.#closed("router stopping");
  }

  #openSoon(): void {
    if (this.#socket || this.#disposed || Date.now() < this.#retryAt) return;
    const url = new URL("/internal/deliver-stream", this.#node.internalUrl);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    const headers = { authorization: `Bearer ${this.#options.secret}` };
    let socket: WebSocket;
    try {
      socket = (this.#options.connect ?? connect)(url.href, headers);
    } catch {
      this.#retryAt = Date.now() + REOPEN_AFTER_MS;
      return;
    }
    this.#socket = socket;
    const opened = Date.now();
    socket.onopen = () => {
      if (this.#socket === socket) this.#open = true;
    };
    socket.onmessage = (event) => {
      if (this.#socket === socket) this.#answer(event.data);
    };
    socket.onerror = () => {};
    socket.onclose = (event) => {
      if (this.#socket !== socket) return;
      // A node that refuses the upgrade (an older node, a wrong secret) or
      // drops the socket at once is asked again only later.
      if (Date.now() - opened < REOPEN_AFTER_MS || !event.wasClean) {
        this.#retryAt = Date.now() + REOPEN_AFTER_MS;
      }
      this.#closed(`stream closed (${event.code})`);
      if (event.code === 1001) this.#options.onGone?.();
    };
  }

  #answer(data: unknown): void {
    let answer: DeliverStreamAnswer;
    try {
      answer = JSON.parse(String(data));
    } catch {
      return this.#drop("answered a frame that is not JSON");
    }
    const pending = this.#pending.get(answer?.batch);
    if (!pending) return; // timed out already, or not ours
    this.#pending.delete(answer.batch);
    clearTimeout(pending.timer);
    if (answer.error !== undefined) {
      const status = answer.error?.code === "internal" ? 500 : 400;
      pending.reject(
        this.#error(
          "http",
          `refused a batch: ${String(answer.error?.message).slice(0, 200)}`,
          status,
        ),
      );
      return;
    }
    try {
      pending.resolve(this.#options.check(answer.results, pending.deliveries));
    } catch (error) {
      pending.reject(error);
    }
  }

  /** Closes the socket for good (garbage or silence); batches in flight fail. */
  #drop(why: string): void {
    this.#retryAt = Date.now() + REOPEN_AFTER_MS;
    // A client may close only with 1000 or 3000-4999.
    this.#socket?.close(4000, why.slice(0, 100));
    this.#closed(why);
  }

  #closed(why: string): void {
    this.#socket = undefined;
    this.#open = false;
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(this.#error("connection", why));
    }
    this.#pending.clear();
  }

  #error(
    failure: "connection" | "timeout" | "overloaded" | "http",
    message: string,
    httpStatus?: number,
  ): NodeRequestError {
    return new NodeRequestError(this.#node.nodeId, failure, message, {
      httpStatus,
    });
  }
}

function connect(url: string, headers: Record<string, string>): WebSocket {
  return new WebSocket(url, { headers });
}
