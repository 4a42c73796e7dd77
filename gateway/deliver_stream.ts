/**
 * `GET /internal/deliver-stream`: a router's standing WebSocket to this node,
 * carrying the same batches as `POST /internal/deliver-batch` without an HTTP
 * request each. A router sends `{"batch": n, "deliveries": [...]}` and gets
 * `{"batch": n, "results": [...]}` back, or `{"batch": n, "error": {...}}`
 * for a batch the node refused (the socket stays open). Batches are written
 * in the order they arrive, one after the other, as on the HTTP route.
 *
 * The upgrade request passes the internal secret check like every other
 * `/internal/` request (internal_app.ts).
 *
 * @module
 */
import { BadRequestError, HttpError } from "../shared/errors.ts";
import type { Logger } from "../shared/log.ts";
import type {
  DeliverStreamAnswer,
  DeliverStreamBatch,
  NodeApi,
} from "../shared/node_api.ts";
import { parseDeliverStreamBatch } from "./internal_bodies.ts";

/** Seconds a stream may be silent before the node pings the router. */
const IDLE_TIMEOUT_S = 30;

/** The streams open on one node, so its shutdown can close them. */
export class DeliverStreams {
  readonly #open = new Set<WebSocket>();
  readonly #node: Pick<NodeApi, "deliver">;
  readonly #log: Logger;

  constructor(node: Pick<NodeApi, "deliver">, log: Logger) {
    this.#node = node;
    this.#log = log;
  }

  /** Streams open now. */
  get size(): number {
    return this.#open.size;
  }

  /** Upgrades `request` to a stream; a request that is no upgrade is 400. */
  accept(request: Request): Response {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      throw new BadRequestError("deliver-stream needs a WebSocket upgrade");
    }
    // Pings after this many idle seconds, and a close without a pong: a
    // router gone without a FIN does not hold a socket here for ever.
    const { socket, response } = Deno.upgradeWebSocket(request, {
      idleTimeout: IDLE_TIMEOUT_S,
    });
    // Batches one at a time, in arrival order: a user's messages reach its
    // sockets in the order the router sent them.
    let previous: Promise<void> = Promise.resolve();
    socket.onopen = () => this.#open.add(socket);
    socket.onclose = () => this.#open.delete(socket);
    socket.onerror = () => {};
    socket.onmessage = (event) => {
      previous = previous.then(() => this.#answer(socket, event.data));
    };
    return response;
  }

  /** Closes every stream (1001): routers fall back or reconnect elsewhere. */
  closeAll(): void {
    for (const socket of this.#open) socket.close(1001, "node stopping");
    this.#open.clear();
  }

  async #answer(socket: WebSocket, data: unknown): Promise<void> {
    let answer: DeliverStreamAnswer;
    let batch = -1;
    try {
      const frame: DeliverStreamBatch = parseDeliverStreamBatch(
        data,
        (n) => batch = n,
      );
      const results = [];
      for (const request of frame.deliveries) {
        results.push(await this.#node.deliver(request));
      }
      answer = { batch, results };
    } catch (error) {
      const known = error instanceof HttpError;
      if (!known) this.#log.error("internal stream batch failed", { error });
      answer = {
        batch,
        error: {
          code: known ? error.code : "internal",
          message: known ? error.message : "internal error",
        },
      };
    }
    if (socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(answer));
    }
  }
}
