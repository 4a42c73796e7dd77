/**
 * `ctl cluster …`: drives the processes of a running `deno task cluster`
 * through its control endpoint (ops/cluster/control_server.ts), named in the
 * state file: list them, stop, start or restart one, with new environment
 * for a rolling restart or a rotation.
 *
 * @example
 * ```sh
 * deno task ctl --state-file /tmp/wsgw.json cluster
 * deno task ctl --state-file /tmp/wsgw.json cluster restart gw-1 --env WSGW_MAX_DEVICES=3
 * deno task ctl --state-file /tmp/wsgw.json cluster stop etcd
 * deno task ctl --state-file /tmp/wsgw.json cluster add-gateway
 * deno task ctl --state-file /tmp/wsgw.json cluster remove gw-3
 * ```
 *
 * @module
 */
import { type CommandContext, printJson } from "./context.ts";
import { CtlError, CtlUsageError, oneLine } from "./errors.ts";
import { table } from "./table.ts";

type ProcessInfo = {
  name: string;
  running: boolean;
  pid: number;
  url: string;
  env: string[];
};

const ACTIONS = ["stop", "start", "restart"];
/** A start waits for readiness; a gateway's stop for its drain. */
const TIMEOUT_MS = 120_000;

/** `ctl cluster [stop|start|restart <name> [--env NAME=value]…] [--json]` */
export async function clusterCommand(
  { args, config, flags, io }: CommandContext,
): Promise<void> {
  const control = config.state?.control;
  if (!control) {
    throw new CtlError(
      "cluster needs the state file of a running `deno task cluster --state-file F` (pass --state-file F or set WSGW_STATE_FILE)",
    );
  }
  const [action, name, ...extra] = args;
  if (action === undefined) {
    const list = await call<ProcessInfo[]>(control, "GET", "/v1/processes");
    if (flags.json) return printJson(io, list);
    return io.out(table(
      ["PROCESS", "RUNNING", "PID", "URL", "EXTRA ENV"],
      list.map((p) => [
        p.name,
        p.running ? "yes" : "no",
        p.running ? String(p.pid) : "-",
        p.url,
        p.env.join(",") || "-",
      ]),
    ));
  }
  if (action === "add-gateway" && name === undefined) {
    const added = await call<ProcessInfo>(control, "POST", "/v1/gateways");
    if (flags.json) return printJson(io, added);
    return io.out(
      `${added.name}: running, pid ${added.pid}, ${added.url}\n`,
    );
  }
  if (action === "remove" && name !== undefined && extra.length === 0) {
    await call(
      control,
      "DELETE",
      `/v1/processes/${encodeURIComponent(name)}`,
    );
    if (flags.json) return printJson(io, { name, removed: true });
    return io.out(`${name}: drained, stopped and removed\n`);
  }
  if (!ACTIONS.includes(action) || name === undefined || extra.length > 0) {
    throw new CtlUsageError(
      `cluster takes ${
        ACTIONS.join("|")
      } and one process name: ctl cluster restart gw-1`,
    );
  }
  const env = parseEnvFlags(flags.env ?? []);
  if (env && action === "stop") {
    throw new CtlUsageError("--env goes with start or restart, not stop");
  }
  const done = await call<ProcessInfo>(
    control,
    "POST",
    `/v1/processes/${encodeURIComponent(name)}/${action}`,
    env ? { env } : undefined,
  );
  if (flags.json) return printJson(io, done);
  io.out(
    done.running
      ? `${done.name}: running, pid ${done.pid}\n`
      : `${done.name}: stopped\n`,
  );
}

function parseEnvFlags(
  values: string[],
): Record<string, string> | undefined {
  if (values.length === 0) return undefined;
  const env: Record<string, string> = {};
  for (const value of values) {
    const eq = value.indexOf("=");
    if (eq <= 0) {
      throw new CtlUsageError(
        `--env takes NAME=value (NAME= removes it), got "${value}"`,
      );
    }
    env[value.slice(0, eq)] = value.slice(eq + 1);
  }
  return env;
}

async function call<T>(
  control: { url: string; token: string },
  method: "GET" | "POST" | "DELETE",
  path: string,
  body?: unknown,
): Promise<T> {
  let response: Response;
  try {
    response = await fetch(control.url + path, {
      method,
      headers: { authorization: `Bearer ${control.token}` },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (error) {
    throw new CtlError(
      `the launcher's control endpoint at ${control.url} is unreachable (${
        oneLine(error)
      }); is \`deno task cluster\` still running?`,
    );
  }
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new CtlError(
      `the launcher refused: ${response.status} ${
        (answer as { error?: string }).error ?? ""
      }`,
    );
  }
  return answer as T;
}
