/**
 * The flags of `deno task cluster`, parsed into cluster options.
 *
 * @module
 */
import { parseArgs } from "node:util";
import type { LogLevel } from "../../shared/log.ts";
import type { ClusterOptions } from "./handle.ts";

/** Usage text of `deno task cluster --help`. */
export const USAGE = `\
Usage: deno task cluster [options]

Starts a local wsgw cluster without Docker: etcd and redis-server (from PATH)
in a temp dir on free ports, N gateway nodes and M routers as child processes,
optionally haproxy in front. Ctrl-C or SIGTERM stops everything (gateways
drain first); a second Ctrl-C kills at once.

Options:
  --nodes N            gateway nodes gw-1…gw-N (default 3)
  --routers M          router replicas (default 1)
  --lb                 haproxy in front of the gateways (TCP, leastconn,
                       health check on /readyz); needs haproxy on PATH
  --tls                with --lb: haproxy terminates TLS (wss://) with a
                       throwaway CA and certificate made by openssl at start;
                       clients trust the CA it prints (DENO_CERT=<file>)
  --state-file F       write URLs, pids and secrets to F (JSON) once ready;
                       removed again on stop
  --port-base P        fixed ports instead of free ones: P haproxy, P+1/P+2
                       etcd client/peer, P+3 redis, P+10… routers,
                       P+20+2i / P+21+2i gateway i+1 public / internal
  --lease-ttl S        WSGW_LEASE_TTL of the gateways, seconds (default 10)
  --log-level L        WSGW_LOG_LEVEL: debug, info, warn, error (default info)
  --api-key K          push-API key (default: $WSGW_API_KEYS, else random)
  --jwt-secret S       client token secret (default: $WSGW_JWT_SECRET, else random)
  --internal-secret S  gateway internal API secret (default: $WSGW_INTERNAL_SECRET, else random)
  --prefix P           etcd key prefix (default: $WSGW_ETCD_PREFIX, else /wsgw)
  --raw-logs           print the children's JSON log lines unchanged
  -h, --help           this text

Other WSGW_* variables in the environment (WSGW_MAX_DEVICES, …) reach every
gateway and router.
`;

/** What the command line asks for. */
export type ClusterArgs =
  | { help: true }
  | {
    help: false;
    options: ClusterOptions;
    stateFile: string | undefined;
    rawLogs: boolean;
  };

/** A bad command line; the message names the flag. */
export class ClusterUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ClusterUsageError";
  }
}

const LEVELS = ["debug", "info", "warn", "error"];

/**
 * Parses `args`; secrets not given as flags come from `env`.
 *
 * @throws {ClusterUsageError} for an unknown flag or a bad value.
 */
export function parseClusterArgs(
  args: string[],
  env: Record<string, string | undefined> = {},
): ClusterArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        nodes: { type: "string" },
        routers: { type: "string" },
        lb: { type: "boolean" },
        tls: { type: "boolean" },
        "state-file": { type: "string" },
        "port-base": { type: "string" },
        "lease-ttl": { type: "string" },
        "log-level": { type: "string" },
        "api-key": { type: "string" },
        "jwt-secret": { type: "string" },
        "internal-secret": { type: "string" },
        prefix: { type: "string" },
        "raw-logs": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    throw new ClusterUsageError(
      error instanceof Error ? error.message : String(error),
    );
  }
  if (values.help) return { help: true };
  const level = values["log-level"];
  if (level !== undefined && !LEVELS.includes(level)) {
    throw new ClusterUsageError(
      `--log-level must be one of ${LEVELS.join(", ")}, got "${level}"`,
    );
  }
  const prefix = values.prefix ?? env.WSGW_ETCD_PREFIX;
  if (
    prefix !== undefined && (!prefix.startsWith("/") || prefix.endsWith("/"))
  ) {
    throw new ClusterUsageError(
      `--prefix must start with "/" and not end with one, got "${prefix}"`,
    );
  }
  return {
    help: false,
    stateFile: values["state-file"],
    rawLogs: values["raw-logs"] ?? false,
    options: {
      nodes: int("--nodes", values.nodes, 1, 200),
      routers: int("--routers", values.routers, 1, 10),
      lb: values.lb ?? false,
      tls: values.tls ?? false,
      portBase: int("--port-base", values["port-base"], 1024, 65000),
      leaseTtl: int("--lease-ttl", values["lease-ttl"], 2, 3600),
      logLevel: level as LogLevel | undefined,
      apiKey: values["api-key"] ?? firstKey(env.WSGW_API_KEYS),
      jwtSecret: values["jwt-secret"] ?? nonEmpty(env.WSGW_JWT_SECRET),
      internalSecret: values["internal-secret"] ??
        nonEmpty(env.WSGW_INTERNAL_SECRET),
      etcdPrefix: prefix,
    },
  };
}

function int(
  flag: string,
  raw: string | undefined,
  min: number,
  max: number,
): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    throw new ClusterUsageError(
      `${flag} must be an integer from ${min} to ${max}, got "${raw}"`,
    );
  }
  return value;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value?.trim() ? value.trim() : undefined;
}

function firstKey(keys: string | undefined): string | undefined {
  return nonEmpty(keys?.split(",").find((k) => k.trim() !== ""));
}
