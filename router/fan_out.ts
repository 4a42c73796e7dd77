/**
 * Calls several gateway nodes in parallel. A node that fails is reported in
 * `unreachable` rather than failing the whole request: the other nodes'
 * answers still count, and history keeps the message for the missed users.
 *
 * @module
 */
import type { NodeApi } from "../shared/node_api.ts";
import type { NodeRecord } from "../shared/registry/mod.ts";
import type { RouterDeps } from "./deps.ts";
import type { ForwardStatus } from "./metrics.ts";
import { NodeRequestError } from "./node_client.ts";
import { Throttle } from "./throttle.ts";

/** What {@link fanOut} returns: answers of the nodes that answered, ids of the others. */
export type FanOutResult<T> = {
  answers: { node: NodeRecord; value: T }[];
  unreachable: string[];
};

/** A {@link fanOut} bound to its dependencies. */
export type FanOut = <T>(
  nodes: readonly NodeRecord[],
  what: string,
  call: (api: NodeApi, node: NodeRecord) => Promise<T>,
) => Promise<FanOutResult<T>>;

/** Creates the function routes use to call nodes; counts `wsgw_forward_requests_total`. */
export function createFanOut(
  deps: Pick<RouterDeps, "nodes" | "log" | "metrics">,
): FanOut {
  const throttle = new Throttle();
  return async (nodes, what, call) => {
    const answers: FanOutResult<never>["answers"] = [];
    const unreachable: string[] = [];
    await Promise.all(nodes.map(async (node) => {
      try {
        const value = await call(deps.nodes.for(node), node);
        deps.metrics.forwardRequests.inc({ status: "ok" });
        answers.push({ node, value: value as never });
      } catch (error) {
        const status = forwardStatus(error);
        deps.metrics.forwardRequests.inc({ status });
        deps.metrics.forwardErrors.inc({ node: node.nodeId, status });
        unreachable.push(node.nodeId);
        if (throttle.allow(node.nodeId)) {
          deps.log.warn("node request failed", {
            nodeId: node.nodeId,
            op: what,
            error,
          });
        }
      }
    }));
    unreachable.sort();
    return { answers, unreachable };
  };
}

/** The bounded `status` label of a failed node call. */
export function forwardStatus(error: unknown): ForwardStatus {
  if (!(error instanceof NodeRequestError)) return "error";
  switch (error.failure) {
    case "timeout":
    case "connection":
    case "overloaded":
      return error.failure;
    case "http":
      if (error.httpStatus === undefined) return "error";
      return error.httpStatus >= 500 ? "http_5xx" : "http_4xx";
  }
}

/** A count from a node, distrusted: anything but a non-negative integer is 0. */
export function count(value: unknown): number {
  return Number.isSafeInteger(value) && (value as number) > 0
    ? value as number
    : 0;
}
