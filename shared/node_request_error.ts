/**
 * The error of a call to a gateway node's internal API that did not succeed:
 * from a router (router/node_client.ts), a peer node (gateway/device_limit.ts)
 * or `ctl drain`, all through shared/internal_call.ts.
 *
 * @module
 */
import { UnavailableError } from "./errors.ts";

/** Why a call to a node failed. */
export type NodeFailure = "timeout" | "connection" | "http" | "overloaded";

/** A call to a node that did not succeed; `status` is set for `http`. */
export class NodeRequestError extends UnavailableError {
  readonly nodeId: string;
  readonly failure: NodeFailure;
  readonly httpStatus: number | undefined;

  constructor(
    nodeId: string,
    failure: NodeFailure,
    message: string,
    options?: ErrorOptions & { httpStatus?: number },
  ) {
    super(`node ${nodeId}: ${message}`, options);
    this.name = "NodeRequestError";
    this.nodeId = nodeId;
    this.failure = failure;
    this.httpStatus = options?.httpStatus;
  }
}
