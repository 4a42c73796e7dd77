/**
 * Errors of the registry seam that every backend throws, so callers can tell
 * them apart without importing a backend (the etcd backend's own errors live
 * in its private modules and are re-exported from `./etcd.ts`).
 *
 * @module
 */
import { HttpError } from "../errors.ts";

/** `join()` found the node id held by a live node. */
export class NodeIdTakenError extends HttpError {
  /** The node id asked for. */
  readonly nodeId: string;

  constructor(nodeId: string, options?: ErrorOptions) {
    super(
      "node_id_taken",
      409,
      `node id "${nodeId}" is already registered`,
      options,
    );
    this.name = "NodeIdTakenError";
    this.nodeId = nodeId;
  }
}
