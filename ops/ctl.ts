/**
 * `deno task ctl …`: the operator CLI of a wsgw cluster. Reads etcd (through
 * its JSON gateway) and calls the router's push API; aligned tables by
 * default, `--json` for scripts. Exit status 0 on success, 1 when something
 * could not be reached or refused, 2 for a bad command line, 3 for a
 * partial answer (`nodes` or `user` with the router or etcd down: what the
 * other said, and a note on stderr).
 *
 * @example
 * ```sh
 * export WSGW_STATE_FILE=/tmp/wsgw.json   # from deno task cluster --state-file
 * deno task ctl nodes
 * deno task ctl push alice '{"text":"hi"}'
 * TOKEN=$(deno task ctl token alice --device phone --ttl 15m)
 * deno task ctl secrets --out .env
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { type ConfigFlags, resolveConfig } from "./ctl/ctl_config.ts";
import type { Command, CommandFlags, CtlIo } from "./ctl/context.ts";
import { clusterCommand } from "./ctl/cluster_command.ts";
import { drainCommand } from "./ctl/drain_command.ts";
import { CtlError, CtlUsageError, oneLine } from "./ctl/errors.ts";
import { nodesCommand } from "./ctl/nodes_command.ts";
import { pushCommand, tokenCommand } from "./ctl/push_commands.ts";
import { secretsCommand } from "./ctl/secrets_command.ts";
import { userCommand, usersCommand } from "./ctl/users_commands.ts";

/** Usage text of `deno task ctl --help`. */
export const USAGE = `\
Usage: deno task ctl [settings] <command> [arguments] [--json]

Commands:
  nodes                          gateway nodes: url, connections, users,
                                 draining, started (router; etcd if it is down)
  user <id>                      nodes holding the user (etcd) and its devices
  users [--node N] [--limit 100] users registered on node N (etcd keys)
  push <user>… <json> [--id ID] [--device D]
                                 push to users through the router
  token <user> [--device D] [--ttl 1h]
                                 a client token signed with the JWT secret
  drain <node> [--no-wait] [--timeout 60]
                                 the node closes its clients (1012) and leaves
  secrets [--out FILE] [--force] a fresh env file of random secrets (API keys,
                                 JWT, internal, etcd, Redis, Grafana); stdout
                                 without --out
  cluster                        the processes of a running \`deno task cluster\`
                                 (needs its state file)
  cluster stop|start|restart <process> [--env NAME=value]…
                                 stop, start or restart gw-N, router-N, etcd,
                                 redis or lb there; --env is kept for every
                                 later start (NAME= removes it)
  cluster add-gateway | remove <gw-N>
                                 one more gateway (haproxy reloaded with it), or
                                 drain, stop and drop one

Settings (flag, else environment, else state file):
  --state-file F        a state file of \`deno task cluster\` ($WSGW_STATE_FILE)
  --router URL          push API ($WSGW_ROUTER)
  --etcd URLS           etcd endpoints, comma-separated ($WSGW_ETCD)
  --prefix P            etcd key prefix ($WSGW_ETCD_PREFIX, default /wsgw)
  --api-key K           push-API key(s), "key:scope,…" as the routers read
                        them; each command picks one whose scope suffices
                        ($WSGW_API_KEY, else $WSGW_API_KEYS)
  --jwt-secret S        client token secret ($WSGW_JWT_SECRET)
  --internal-secret S   gateway internal API secret, for drain ($WSGW_INTERNAL_SECRET)
  --json                JSON output
  -h, --help            this text

Exit status: 0 done; 1 something could not be reached or refused (one line
on stderr says what); 2 bad command line; 3 partial answer (nodes or user
printed what etcd or the router said while the other did not answer).
`;

const COMMANDS: Record<string, { run: Command; flags: string[] }> = {
  nodes: { run: nodesCommand, flags: [] },
  user: { run: userCommand, flags: [] },
  users: { run: usersCommand, flags: ["node", "limit"] },
  push: { run: pushCommand, flags: ["id", "device"] },
  token: { run: tokenCommand, flags: ["device", "ttl"] },
  drain: { run: drainCommand, flags: ["wait", "timeout"] },
  secrets: { run: secretsCommand, flags: ["out", "force"] },
  cluster: { run: clusterCommand, flags: ["env"] },
};
const SETTINGS = [
  "state-file",
  "router",
  "etcd",
  "prefix",
  "api-key",
  "jwt-secret",
  "internal-secret",
];
const COMMAND_FLAGS = [
  "node",
  "limit",
  "device",
  "ttl",
  "id",
  "timeout",
  "out",
];

/** Runs ctl with `args`; resolves with the exit status. */
export async function main(
  args: string[],
  io: CtlIo = stdio(),
): Promise<number> {
  try {
    const { command, positionals, values } = parse(args);
    if (values.help || command === "help") {
      io.out(USAGE);
      return 0;
    }
    if (command === undefined) throw new CtlUsageError("no command given");
    const spec = COMMANDS[command];
    if (!spec) throw new CtlUsageError(`unknown command "${command}"`);
    for (const flag of [...COMMAND_FLAGS, "wait", "force", "env"]) {
      if (values[flag] !== undefined && !spec.flags.includes(flag)) {
        throw new CtlUsageError(
          `${command} does not take --${flag === "wait" ? "no-wait" : flag}`,
        );
      }
    }
    const config = await resolveConfig(values as ConfigFlags, io.env);
    const result = await spec.run({
      args: positionals,
      flags: values as CommandFlags,
      config,
      io,
    });
    return result === "partial" ? 3 : 0;
  } catch (error) {
    if (error instanceof CtlUsageError) {
      io.err(`ctl: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    if (error instanceof CtlError) {
      io.err(`ctl: ${error.message}\n`);
      return error.exitCode;
    }
    io.err(`ctl: unexpected error: ${oneLine(error)}\n`);
    return 1;
  }
}

function parse(args: string[]) {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      strict: true,
      allowPositionals: true,
      options: {
        ...Object.fromEntries(
          [...SETTINGS, ...COMMAND_FLAGS].map((name) => [name, {
            type: "string" as const,
          }]),
        ),
        json: { type: "boolean" },
        env: { type: "string", multiple: true },
        "no-wait": { type: "boolean" },
        force: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    throw new CtlUsageError(oneLine(error));
  }
  const values: Record<string, string | string[] | boolean | undefined> = {
    ...parsed.values,
  };
  if (values["no-wait"]) values.wait = false;
  delete values["no-wait"];
  const [command, ...positionals] = parsed.positionals;
  return { command, positionals, values };
}

function stdio(): CtlIo {
  const write = (file: typeof Deno.stdout, text: string) => {
    const bytes = new TextEncoder().encode(text);
    for (let n = 0; n < bytes.length;) n += file.writeSync(bytes.subarray(n));
  };
  return {
    out: (text) => write(Deno.stdout, text),
    err: (text) => write(Deno.stderr, text),
    env: Deno.env.toObject(),
  };
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
