/**
 * The error of a call to a gateway node that did not succeed, over HTTP
 * (node_client.ts) or a deliver stream (deliver_channel.ts).
 *
 * @module
 */
import { UnavailableError } from "../shared/errors.ts";

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
