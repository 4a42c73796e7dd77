/**
 * How a router asks a gateway node to drain for the operator console
 * (`POST /v1/admin/nodes/{node}/drain`): the node's own `POST
 * /internal/drain`, the one `deno task ctl drain` calls, with the internal
 * secret, which so stays on the router and never reaches a browser.
 *
 * @module
 */
import { UnavailableError } from "../shared/errors.ts";
import { callInternal } from "../shared/internal_call.ts";
import { NodeRequestError } from "../shared/node_request_error.ts";
import type { InternalUrlPolicy } from "../shared/internal_url_policy.ts";
import type { NodeRecord } from "../shared/registry/mod.ts";

/** How fast a drain closes clients (the node's defaults when absent). */
export type DrainPace = { batch?: number; intervalMs?: number };

/** Starts draining `node`; resolves once the node took the request. */
export type NodeDrainer = (node: NodeRecord, pace: DrainPace) => Promise<void>;

/** Options of {@link httpNodeDrainer}. */
export type HttpNodeDrainerOptions = {
  /** The internal secret, sent as `Authorization: Bearer <secret>`. */
  secret: string;
  /** Internal URLs the secret may be sent to; absent: any. */
  urlPolicy?: InternalUrlPolicy;
  /** Milliseconds the node has to answer. @default 5000 */
  timeoutMs?: number;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
};

/**
 * A {@link NodeDrainer} over the node-internal HTTP API.
 *
 * @example
 * ```ts
 * const drain = httpNodeDrainer({ secret: config.internalSecret });
 * await drain(node, {});
 * ```
 */
export function httpNodeDrainer(options: HttpNodeDrainerOptions): NodeDrainer {
  const timeoutMs = options.timeoutMs ?? 5000;
  return async (node, pace) => {
    const refusal = options.urlPolicy?.refusal(node.internalUrl);
    if (refusal !== undefined) {
      throw new UnavailableError(
        `node ${node.nodeId}: internal URL refused (WSGW_INTERNAL_NETWORKS): ${refusal}`,
      );
    }
    try {
      await callInternal(node, "/internal/drain", pace, {
        secret: options.secret,
        signal: AbortSignal.timeout(timeoutMs),
        timeoutMs,
        fetch: options.fetch,
      });
    } catch (error) {
      if (error instanceof NodeRequestError && error.failure === "http") {
        throw new UnavailableError(
          `node ${node.nodeId} refused the drain: ${
            error.httpStatus ?? "a bad answer"
          } (${error.message})`,
          { cause: error },
        );
      }
      throw new UnavailableError(
        `node ${node.nodeId} did not take the drain: ${
          error instanceof Error ? error.message : String(error)
        }`,
        { cause: error },
      );
    }
  };
}
