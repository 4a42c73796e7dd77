/**
 * `ctl drain <node>`: the node drains itself (marks itself draining, closes
 * its clients with 1012 in paced batches, leaves the registry). ctl asks it
 * through the node's internal API (`POST /internal/drain` with the internal
 * secret) and, without that secret, sends SIGTERM to the node's pid from a
 * local cluster's state file (the process drains, then exits). Then it waits
 * until the node's record is gone from etcd.
 *
 * @module
 */
import { type CommandContext, etcdOf, printJson } from "./context.ts";
import { CtlError, CtlUsageError, oneLine } from "./errors.ts";
import { callInternal } from "../../shared/internal_call.ts";
import { NodeRequestError } from "../../shared/node_request_error.ts";

/** Milliseconds between checks of the node record. */
const POLL_MS = 200;
/** Milliseconds the node has to accept the drain (it answers before draining). */
const DRAIN_REQUEST_MS = 5000;

/** `ctl drain <node> [--no-wait] [--timeout 60] [--json]` */
export async function drainCommand(
  { args, config, flags, io }: CommandContext,
): Promise<void> {
  const [nodeId, ...extra] = args;
  if (nodeId === undefined || extra.length > 0) {
    throw new CtlUsageError("drain takes one node id: ctl drain <node>");
  }
  const timeout = flags.timeout === undefined ? 60 : Number(flags.timeout);
  if (!Number.isInteger(timeout) || timeout < 1) {
    throw new CtlUsageError(
      `--timeout must be a whole number of seconds, got "${flags.timeout}"`,
    );
  }
  const etcd = etcdOf(config);
  const node = (await etcd.nodes()).find((n) => n.nodeId === nodeId);
  if (!node) {
    throw new CtlError(
      `no node ${nodeId} in etcd (see \`ctl nodes\`); it may have left already`,
    );
  }
  const began = Date.now();
  let how: string;
  if (config.internalSecret !== undefined) {
    await askToDrain(node.internalUrl, config.internalSecret, nodeId);
    how = "internal API";
  } else {
    const pid = config.state?.gateways.find((g) => g.nodeId === nodeId)?.pid;
    if (pid === undefined || pid <= 0) {
      throw new CtlError(
        `cannot drain ${nodeId}: set WSGW_INTERNAL_SECRET (or --internal-secret) to use its internal API, or pass the --state-file of the local cluster that runs it`,
      );
    }
    try {
      Deno.kill(pid, "SIGTERM");
    } catch (error) {
      throw new CtlError(
        `cannot signal ${nodeId} (pid ${pid}): ${oneLine(error)}`,
      );
    }
    how = `SIGTERM to pid ${pid}`;
  }
  if (flags.wait === false) {
    if (flags.json) return printJson(io, { node: nodeId, how, done: false });
    return io.out(`${nodeId}: draining (${how})\n`);
  }
  if (!flags.json) io.err(`${nodeId}: draining (${how}), waiting…\n`);
  const deadline = began + timeout * 1000;
  while ((await etcd.nodes()).some((n) => n.nodeId === nodeId)) {
    if (Date.now() >= deadline) {
      throw new CtlError(
        `${nodeId} is still registered after ${timeout} s (see \`ctl nodes\`)`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  const ms = Date.now() - began;
  if (flags.json) return printJson(io, { node: nodeId, how, done: true, ms });
  io.out(
    `${nodeId}: drained and left the registry in ${(ms / 1000).toFixed(1)} s\n`,
  );
}

async function askToDrain(
  internalUrl: string,
  secret: string,
  nodeId: string,
): Promise<void> {
  try {
    await callInternal({ nodeId, internalUrl }, "/internal/drain", {}, {
      secret,
      signal: AbortSignal.timeout(DRAIN_REQUEST_MS),
      timeoutMs: DRAIN_REQUEST_MS,
    });
  } catch (error) {
    if (!(error instanceof NodeRequestError) || error.failure !== "http") {
      throw new CtlError(
        `${nodeId}'s internal API at ${internalUrl} is unreachable (${
          oneLine(error)
        })`,
      );
    }
    const check = error.httpStatus === 401
      ? " (check WSGW_INTERNAL_SECRET or --internal-secret)"
      : "";
    throw new CtlError(`${nodeId} refused to drain: ${error.message}${check}`);
  }
}
