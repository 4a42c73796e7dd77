/**
 * How the router reaches gateway nodes: {@link NodeClient} hands out a
 * {@link NodeApi} per node record. {@link LocalNodeClient} calls a node in the
 * same process (embedded mode); {@link HttpNodeClient} calls the node-internal
 * HTTP API with keep-alive, a timeout, one retry on a connection error and a
 * bound on in-flight requests per node, and sends the deliveries of concurrent
 * pushes to one node as one request.
 *
 * @module
 */
import type { InternalUrlPolicy } from "../shared/internal_url_policy.ts";
import { checkAnswer, type NodeAnswers } from "./node_answers.ts";
import type {
  BroadcastRequest,
  CatchUpRequest,
  DeliverBatchRequest,
  DeliverRequest,
  DeliverResult,
  KickRequest,
  NodeApi,
} from "../shared/node_api.ts";
import type { NodeRecord } from "../shared/registry/mod.ts";
import {
  type BatchLimits,
  createDeliverBatcher,
  type Deliver,
} from "./deliver_batcher.ts";
import { callInternal } from "../shared/internal_call.ts";
import { NodeRequestError } from "../shared/node_request_error.ts";
import { Gate } from "./node_gate.ts";

export {
  type NodeFailure,
  NodeRequestError,
} from "../shared/node_request_error.ts";

/** Hands out the {@link NodeApi} of one node. */
export interface NodeClient {
  /** The API of `node`; cheap, callers ask for it per request. */
  for(node: NodeRecord): NodeApi;
}

/** A {@link NodeClient} for one in-process node; the record is ignored. */
export class LocalNodeClient implements NodeClient {
  readonly #api: NodeApi;

  constructor(api: NodeApi) {
    this.#api = api;
  }

  for(_node: NodeRecord): NodeApi {
    return this.#api;
  }
}

/** Options of {@link HttpNodeClient}. */
export type HttpNodeClientOptions = {
  /** The internal secret, sent as `Authorization: Bearer <secret>`. */
  secret: string;
  /** Milliseconds a call may take, queueing and the retry included. @default 5000 */
  timeoutMs?: number;
  /** Concurrent requests per node; further calls queue. @default 256 */
  maxInFlight?: number;
  /** Calls queued per node beyond `maxInFlight`; more fail at once. @default 10000 */
  maxQueued?: number;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Internal URLs the secret may be sent to; absent: any. */
  urlPolicy?: InternalUrlPolicy;
  /** Bounds of one batch of deliveries. @default see {@link BatchLimits} */
  batch?: BatchLimits;
};

/** A {@link NodeClient} over the node-internal HTTP API. */
export class HttpNodeClient implements NodeClient {
  readonly #secret: string;
  readonly #timeoutMs: number;
  readonly #maxInFlight: number;
  readonly #maxQueued: number;
  readonly #fetch: typeof fetch;
  readonly #urlPolicy: InternalUrlPolicy | undefined;
  /** Per-node gates; a gate is dropped when idle, so dead nodes leave nothing behind. */
  readonly #gates = new Map<string, Gate>();
  readonly #deliver: Deliver;
  readonly #apis = new WeakMap<NodeRecord, NodeApi>();

  constructor(options: HttpNodeClientOptions) {
    this.#secret = options.secret;
    this.#timeoutMs = options.timeoutMs ?? 5000;
    this.#maxInFlight = options.maxInFlight ?? 256;
    this.#maxQueued = options.maxQueued ?? 10_000;
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#urlPolicy = options.urlPolicy;
    this.#deliver = createDeliverBatcher(
      async (node, deliveries) => {
        const answer = await this.#call<unknown>(
          node,
          "/internal/deliver-batch",
          { deliveries } satisfies DeliverBatchRequest,
        );
        return batchResults(node, answer, deliveries.length);
      },
      options.batch,
    );
  }

  for(node: NodeRecord): NodeApi {
    // Route cache records are kept objects: one API each, not one per push.
    let api = this.#apis.get(node);
    if (!api) this.#apis.set(node, api = this.#api(node));
    return api;
  }

  #api(node: NodeRecord): NodeApi {
    const refusal = this.#urlPolicy?.refusal(node.internalUrl);
    const call = refusal === undefined
      ? <T>(path: string, body?: unknown) => this.#call<T>(node, path, body)
      : () =>
        Promise.reject(
          new NodeRequestError(
            node.nodeId,
            "http",
            `internal URL refused (WSGW_INTERNAL_NETWORKS): ${refusal}`,
          ),
        );
    // Every answer is checked before anyone passes it on (node_answers.ts).
    return {
      deliver: (request: DeliverRequest) =>
        refusal === undefined
          ? this.#deliver(node, request)
          : call<DeliverResult>(""),
      broadcast: async (request: BroadcastRequest) =>
        checked(
          "broadcast",
          node,
          await call<unknown>("/internal/broadcast", request),
        ),
      presence: async (user: string) =>
        checked(
          "presence",
          node,
          await call<unknown>(
            `/internal/presence?user=${encodeURIComponent(user)}`,
          ),
        ),
      kick: async (request: KickRequest) =>
        checked("kick", node, await call<unknown>("/internal/kick", request)),
      catchUp: async (request: CatchUpRequest) =>
        checked(
          "catchUp",
          node,
          await call<unknown>("/internal/catch-up", request),
        ),
      stats: async () =>
        checked("stats", node, await call<unknown>("/internal/stats")),
    };
  }

  /** Requests currently sent to `nodeId` (for tests and debugging). */
  inFlight(nodeId: string): number {
    return this.#gates.get(nodeId)?.inFlight ?? 0;
  }

  async #call<T>(node: NodeRecord, path: string, body?: unknown): Promise<T> {
    // One deadline for the whole call, queueing included; a cleared timer
    // rather than AbortSignal.timeout, whose timer would outlive a fast call
    // by seconds (thousands of them at push rates).
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), this.#timeoutMs);
    const signal = deadline.signal;
    const gate = this.#gate(node.nodeId);
    try {
      await gate.enter(node.nodeId, signal, this.#timeoutMs);
    } catch (error) {
      clearTimeout(timer);
      throw error;
    }
    try {
      try {
        return await this.#send<T>(node, path, body, signal);
      } catch (error) {
        // A refused connect or a keep-alive socket the node closed under us:
        // the request most likely never arrived, so one retry is worth it.
        // Timeouts and HTTP errors are answers and are not retried.
        if (
          error instanceof NodeRequestError && error.failure === "connection"
        ) {
          return await this.#send<T>(node, path, body, signal);
        }
        throw error;
      }
    } finally {
      clearTimeout(timer);
      gate.leave();
      if (gate.idle) this.#gates.delete(node.nodeId);
    }
  }

  #send<T>(
    node: NodeRecord,
    path: string,
    body: unknown,
    signal: AbortSignal,
  ): Promise<T> {
    return callInternal<T>(node, path, body, {
      secret: this.#secret,
      signal,
      timeoutMs: this.#timeoutMs,
      fetch: this.#fetch,
    });
  }

  #gate(nodeId: string): Gate {
    let gate = this.#gates.get(nodeId);
    if (!gate) {
      gate = new Gate(this.#maxInFlight, this.#maxQueued);
      this.#gates.set(nodeId, gate);
    }
    return gate;
  }
}

/** A deliver-batch answer's results, checked: one per delivery. */
function batchResults(
  node: NodeRecord,
  answer: unknown,
  deliveries: number,
): DeliverResult[] {
  const { results } = checked("deliverBatch", node, answer);
  if (results?.length !== deliveries) {
    throw new NodeRequestError(
      node.nodeId,
      "http",
      `answered ${results?.length} results for ${deliveries} deliveries`,
    );
  }
  return results;
}

/** The answer of `what` from `node`, checked; a {@link NodeRequestError} when it is not what a node sends. */
function checked<K extends keyof NodeAnswers>(
  what: K,
  node: NodeRecord,
  value: unknown,
): NodeAnswers[K] {
  const result = checkAnswer(what, node.nodeId, value);
  if ("answer" in result) return result.answer;
  throw new NodeRequestError(
    node.nodeId,
    "http",
    `answered an invalid ${what}: ${result.problem.slice(0, 200)}`,
  );
}
