/**
 * `ctl user <id>`: the nodes holding a user (its keys in etcd) and its
 * devices (presence from the router). `ctl users --node <id>`: the users a
 * node has registered, from the etcd keys.
 *
 * @module
 */
import type { DeviceInfo } from "../../shared/node_api.ts";
import {
  type CommandContext,
  type CommandResult,
  etcdOf,
  printJson,
  routerOf,
} from "./context.ts";
import { CtlError, CtlUsageError, oneLine } from "./errors.ts";
import type { UserKey } from "./etcd_reader.ts";
import { table, time } from "./table.ts";

type Presence = { user: string; online: boolean; devices: DeviceInfo[] };

/** `ctl user <id> [--json]` */
export async function userCommand(
  { args, config, flags, io }: CommandContext,
): Promise<CommandResult> {
  const [user, ...extra] = args;
  if (user === undefined || extra.length > 0) {
    throw new CtlUsageError("user takes one user id: ctl user <id>");
  }
  const [keys, presence] = await Promise.allSettled([
    etcdOf(config).owners(user),
    routerOf(config, "push").call<Presence>(
      "GET",
      `/v1/users/${encodeURIComponent(user)}/presence`,
    ),
  ]);
  if (keys.status === "rejected" && presence.status === "rejected") {
    throw new CtlError(
      `neither etcd nor the router answered: ${oneLine(keys.reason)}; ${
        oneLine(presence.reason)
      }`,
    );
  }
  let result: CommandResult = undefined;
  for (const failed of [keys, presence]) {
    if (failed.status === "rejected") {
      io.err(`note: ${oneLine(failed.reason)} (partial answer, exit 3)\n`);
      result = "partial";
    }
  }
  const nodes = keys.status === "fulfilled"
    ? keys.value.map(({ nodeId, since }) => ({ nodeId, since }))
    : null;
  const devices = presence.status === "fulfilled"
    ? presence.value.devices
    : null;
  if (flags.json) {
    printJson(io, {
      user,
      online: (nodes?.length ?? 0) > 0 || (devices?.length ?? 0) > 0,
      nodes,
      devices,
    });
    return result;
  }
  if (nodes !== null) {
    io.out(
      nodes.length === 0
        ? `user ${JSON.stringify(user)} is on no node (no keys in etcd)\n`
        : `user ${JSON.stringify(user)} is registered on ${
          nodes.map((n) =>
            n.since === null ? n.nodeId : `${n.nodeId} (since ${time(n.since)})`
          ).join(", ")
        }\n`,
    );
  }
  if (devices !== null && devices.length > 0) {
    io.out(table(
      ["CONNECTION", "NODE", "DEVICE", "CONNECTED"],
      devices.map((d) => [d.connId, d.nodeId, d.device, time(d.connectedAt)]),
    ));
  } else if (devices !== null) {
    io.out("no open connections\n");
  }
  return result;
}

/** `ctl users [--node <id>] [--limit N] [--json]` */
export async function usersCommand(
  { args, config, flags, io }: CommandContext,
): Promise<void> {
  if (args.length > 0) {
    throw new CtlUsageError("users takes no arguments: ctl users --node <id>");
  }
  const limit = flags.limit === undefined ? 100 : Number(flags.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1_000_000) {
    throw new CtlUsageError(
      `--limit must be an integer from 1 to 1000000, got "${flags.limit}"`,
    );
  }
  const { users, truncated } = await etcdOf(config).users(flags.node, limit);
  if (flags.json) {
    return printJson(io, {
      node: flags.node ?? null,
      users: flags.node === undefined
        ? users.map(({ user, nodeId }) => ({ user, nodeId }))
        : users.map(({ user }) => user),
      truncated,
    });
  }
  if (flags.node === undefined) {
    io.out(table(["USER", "NODE"], users.map((u) => [label(u), u.nodeId])));
  } else {
    for (const u of users) io.out(`${label(u)}\n`);
  }
  const where = flags.node === undefined ? "" : ` on ${flags.node}`;
  io.err(
    truncated
      ? `first ${users.length} users${where}; more exist (raise --limit)\n`
      : `${users.length} user(s)${where}\n`,
  );
}

/** A user id on one line: JSON-quoted when it has spaces or control characters. */
function label({ user }: UserKey): string {
  return /^[^\s\p{C}]+$/u.test(user) ? user : JSON.stringify(user);
}
