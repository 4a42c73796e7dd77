/**
 * One call to a gateway node's internal API over HTTP: the internal secret as
 * a bearer token, no redirects, a JSON answer, and every failure as a
 * {@link NodeRequestError} saying whether the request likely never arrived
 * (`connection`), got no answer in time (`timeout`) or was answered with an
 * error (`http`). Routers (router/node_client.ts), peer nodes
 * (gateway/device_limit.ts) and `ctl drain` all call nodes through it.
 *
 * @module
 */
import { type NodeFailure, NodeRequestError } from "./node_request_error.ts";

/** Options of {@link callInternal}. */
export type InternalCallOptions = {
  /** The internal secret, sent as `Authorization: Bearer <secret>`. */
  secret: string;
  /** Aborting it is a timeout of `timeoutMs`. */
  signal: AbortSignal;
  /** Only for the timeout's message. */
  timeoutMs: number;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
};

/**
 * Sends `body` as JSON to `path` of the node (GET without a body) and
 * returns its JSON answer, unchecked.
 */
export async function callInternal<T>(
  node: { nodeId: string; internalUrl: string },
  path: string,
  body: unknown,
  options: InternalCallOptions,
): Promise<T> {
  const { signal } = options;
  const fail = (error: unknown, otherwise: NodeFailure) =>
    failure(node.nodeId, options, error, otherwise);
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(
      new URL(path, node.internalUrl),
      {
        method: body === undefined ? "GET" : "POST",
        headers: {
          authorization: `Bearer ${options.secret}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        // A redirect would carry the request (and the secret's answer) to
        // an address no record named.
        redirect: "manual",
        signal,
      },
    );
  } catch (error) {
    throw fail(error, "connection");
  }
  try {
    if (!response.ok) {
      const detail = await response.text();
      throw new NodeRequestError(
        node.nodeId,
        "http",
        `${path.split("?")[0]} answered ${response.status}: ${
          detail.slice(0, 200)
        }`,
        { httpStatus: response.status },
      );
    }
    return await response.json() as T;
  } catch (error) {
    if (error instanceof NodeRequestError) throw error;
    // The body broke off or was not JSON: the node did get the request.
    throw fail(error, "http");
  }
}

function failure(
  nodeId: string,
  options: InternalCallOptions,
  error: unknown,
  otherwise: NodeFailure,
): NodeRequestError {
  if (options.signal.aborted) {
    return new NodeRequestError(
      nodeId,
      "timeout",
      `no answer within ${options.timeoutMs} ms`,
      { cause: error },
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  return new NodeRequestError(nodeId, otherwise, message, { cause: error });
}
