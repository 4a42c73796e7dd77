/**
 * `ctl nodes`: the gateway nodes with their counts, from the router's
 * `GET /v1/nodes`; when the router cannot answer, the node records in etcd
 * (without counts), with a note on stderr.
 *
 * @module
 */
import {
  type CommandContext,
  type CommandResult,
  etcdOf,
  printJson,
  routerOf,
} from "./context.ts";
import { CtlError, oneLine } from "./errors.ts";
import { age, table, time } from "./table.ts";

/** A node as ctl shows it; counts are null when only etcd was asked. */
export type NodeRow = {
  nodeId: string;
  url: string;
  connections: number | null;
  users: number | null;
  draining: boolean;
  startedAt: number;
  reachable?: boolean;
};

/** `ctl nodes [--json]` */
export async function nodesCommand(
  { config, flags, io }: CommandContext,
): Promise<CommandResult> {
  let rows: NodeRow[];
  let result: CommandResult = undefined;
  try {
    rows = await routerOf(config, "admin").call<NodeRow[]>("GET", "/v1/nodes");
  } catch (routerError) {
    try {
      const records = await etcdOf(config).nodes();
      rows = records.map(({ nodeId, url, draining, startedAt }) => ({
        nodeId,
        url,
        connections: null,
        users: null,
        draining,
        startedAt,
      }));
      rows.sort((a, b) => a.nodeId < b.nodeId ? -1 : 1);
    } catch (etcdError) {
      throw new CtlError(
        `neither the router nor etcd answered: ${oneLine(routerError)}; ${
          oneLine(etcdError)
        }`,
      );
    }
    io.err(
      `note: ${
        oneLine(routerError)
      }\nnote: showing the node records in etcd, without counts (partial answer, exit 3)\n`,
    );
    result = "partial";
  }
  if (flags.json) {
    printJson(io, rows);
    return result;
  }
  if (rows.length === 0) {
    io.err("no gateway nodes registered\n");
    return result;
  }
  const now = Date.now();
  io.out(table(
    ["NODE", "URL", "CONNECTIONS", "USERS", "DRAINING", "STARTED", "UP"],
    rows.map((n) => [
      n.reachable === false ? `${n.nodeId} (unreachable)` : n.nodeId,
      n.url,
      n.connections,
      n.users,
      n.draining ? "yes" : "no",
      time(n.startedAt),
      age(n.startedAt, now),
    ]),
  ));
  return result;
}
