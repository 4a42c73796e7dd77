/**
 * The command line of `deno task demo`: where the push API and the gateway
 * are, from flags or a cluster state file; secrets from the environment or
 * the state file.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { readStateFile } from "../shared/cluster_state.ts";

/** Usage text of `deno task demo --help`. */
export const USAGE = `\
Usage: deno task demo (--router URL --gateway URL | --state-file F) [options]

The demo business service of a video platform: a creator uploads a cover,
a filter job runs for a few seconds, and the result is pushed to every
device of the creator through the push API. Serves the demo page at /.

It signs client tokens for any user it is asked for: a demo, never expose it.

Options:
  --router URL      the push API (a router, or the embedded process)
  --gateway URL     the gateway (or balancer) browsers connect to; /ws is added
  --state-file F    a cluster state file (deno task cluster --state-file F):
                    its router, its balancer or first gateway, its secrets
  --port P          port to listen on (default 8090)
  --host H          address to bind (default 127.0.0.1)
  --job-ms MS       milliseconds from upload to push (default 3000)
  -h, --help        this text

Environment: WSGW_API_KEYS (the first key is used) and WSGW_JWT_SECRET, the
same values the cluster runs with; they override the state file's.
`;

/** A bad command line or environment; the message names the flag or variable. */
export class DemoUsageError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "DemoUsageError";
  }
}

/** What `deno task demo` runs with. */
export type DemoArgs = {
  routerUrl: string;
  /** The gateway's `/ws` URL for pages. */
  wsUrl: string;
  apiKey: string;
  jwtSecret: string;
  host: string;
  port: number;
  jobMs: number;
};

/**
 * Parses `args`, reading the state file when one is named.
 *
 * @returns `"help"` for `--help`.
 * @throws {DemoUsageError} naming the flag or variable at fault.
 */
export async function parseDemoArgs(
  args: string[],
  env: Record<string, string | undefined>,
): Promise<DemoArgs | "help"> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        router: { type: "string" },
        gateway: { type: "string" },
        "state-file": { type: "string" },
        port: { type: "string" },
        host: { type: "string" },
        "job-ms": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    throw new DemoUsageError(
      error instanceof Error ? error.message : String(error),
    );
  }
  if (values.help) return "help";
  let router = values.router;
  let gateway = values.gateway;
  let apiKey = env.WSGW_API_KEYS?.split(",")[0]?.trim() || undefined;
  let jwtSecret = env.WSGW_JWT_SECRET || undefined;
  const stateFile = values["state-file"];
  if (stateFile !== undefined) {
    const state = await readStateFile(stateFile).catch((error) => {
      throw new DemoUsageError(`--state-file: ${error.message}`, {
        cause: error,
      });
    });
    router ??= state.router;
    gateway ??= state.lb ?? state.gateways[0]?.url;
    apiKey ??= state.apiKey;
    jwtSecret ??= state.jwtSecret;
  }
  if (router === undefined) {
    throw new DemoUsageError("--router (or --state-file) is required");
  }
  if (gateway === undefined) {
    throw new DemoUsageError("--gateway (or --state-file) is required");
  }
  if (apiKey === undefined) {
    throw new DemoUsageError(
      "WSGW_API_KEYS is not set (and no --state-file gives an API key)",
    );
  }
  if (jwtSecret === undefined) {
    throw new DemoUsageError(
      "WSGW_JWT_SECRET is not set (and no --state-file gives a JWT secret)",
    );
  }
  return {
    routerUrl: httpUrl("--router", router).href.replace(/\/$/, ""),
    wsUrl: wsUrl(httpUrl("--gateway", gateway)),
    apiKey,
    jwtSecret,
    host: values.host ?? "127.0.0.1",
    port: integer("--port", values.port ?? "8090", 0, 65535),
    jobMs: integer("--job-ms", values["job-ms"] ?? "3000", 0, 600_000),
  };
}

function httpUrl(flag: string, value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch (error) {
    throw new DemoUsageError(`${flag} must be a URL, got "${value}"`, {
      cause: error,
    });
  }
  if (!["http:", "https:", "ws:", "wss:"].includes(url.protocol)) {
    throw new DemoUsageError(`${flag} must be an http(s) URL, got "${value}"`);
  }
  return url;
}

/** `http://gw:8081` → `ws://gw:8081/ws` (a path ending in /ws is kept). */
function wsUrl(url: URL): string {
  const ws = new URL(url);
  ws.protocol = url.protocol === "https:" || url.protocol === "wss:"
    ? "wss:"
    : "ws:";
  if (!ws.pathname.endsWith("/ws")) {
    ws.pathname = `${ws.pathname.replace(/\/$/, "")}/ws`;
  }
  return ws.href;
}

function integer(
  flag: string,
  value: string,
  min: number,
  max: number,
): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) {
    throw new DemoUsageError(
      `${flag} must be an integer from ${min} to ${max}, got "${value}"`,
    );
  }
  return n;
}
