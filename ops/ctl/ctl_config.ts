/**
 * Where ctl finds the cluster. Each setting comes from the first of: its
 * flag, the `--state-file` given as a flag, its environment variable, the
 * state file named by `WSGW_STATE_FILE`.
 *
 * | setting | flag | environment | state file |
 * | --- | --- | --- | --- |
 * | router URL | `--router` | `WSGW_ROUTER` | `router` |
 * | etcd endpoints | `--etcd` | `WSGW_ETCD` | `etcd` |
 * | etcd prefix | `--prefix` | `WSGW_ETCD_PREFIX` | `prefix` (else `/wsgw`) |
 * | push-API keys | `--api-key` | `WSGW_API_KEY`, else `WSGW_API_KEYS` | `apiKey` |
 * | JWT secret | `--jwt-secret` | `WSGW_JWT_SECRET` | `jwtSecret` |
 * | internal secret | `--internal-secret` | `WSGW_INTERNAL_SECRET` | `internalSecret` |
 *
 * A key may carry its scope as the router reads it (`key:admin`); the
 * suffix is never sent. Each command takes the first key whose scope covers
 * its route (see {@link keyFor}).
 *
 * @module
 */
import { type ApiKey, parseApiKey } from "../../shared/api_key_scopes.ts";
import type { ClusterState } from "../../shared/cluster_state.ts";
import { readStateFile } from "../../shared/cluster_state.ts";
import { CtlError } from "./errors.ts";

/** What ctl knows about the cluster; any of it may be missing. */
export type CtlConfig = {
  router: string | undefined;
  etcd: string[];
  prefix: string;
  /** Keys with their scopes, in the order given; may be empty. */
  apiKeys: ApiKey[];
  /** Where the keys came from (a flag, a variable or the state file). */
  apiKeySource: string;
  jwtSecret: string | undefined;
  internalSecret: string | undefined;
  /** The state file read, if any (it knows the gateways' pids). */
  state: ClusterState | undefined;
  /** Where the settings came from, for error messages. */
  hint: string;
};

/** Flags that name settings. */
export type ConfigFlags = {
  "state-file"?: string;
  router?: string;
  etcd?: string;
  prefix?: string;
  "api-key"?: string;
  "jwt-secret"?: string;
  "internal-secret"?: string;
};

type Env = Readonly<Record<string, string | undefined>>;

/** Resolves the settings; reads a state file when one is named. */
export async function resolveConfig(
  flags: ConfigFlags,
  env: Env,
): Promise<CtlConfig> {
  const get = (name: string) => {
    const value = env[name]?.trim();
    return value ? value : undefined;
  };
  const explicit = flags["state-file"] !== undefined;
  const stateFile = flags["state-file"] ?? get("WSGW_STATE_FILE");
  const state = stateFile === undefined
    ? undefined
    : await readStateFile(stateFile).catch((error) => {
      throw new CtlError(error.message, 1, { cause: error });
    });
  // An explicit --state-file outranks the environment; WSGW_STATE_FILE does not.
  const pick = (
    flag: string | undefined,
    fromEnv: string | undefined,
    fromState: string | undefined,
  ) => flag ?? (explicit ? fromState ?? fromEnv : fromEnv ?? fromState);
  const etcd = pick(flags.etcd, get("WSGW_ETCD"), state?.etcd);
  const keys = apiKeysOf(flags, get, stateFile, explicit, state?.apiKey);
  const prefix = pick(flags.prefix, get("WSGW_ETCD_PREFIX"), state?.prefix) ??
    "/wsgw";
  if (!prefix.startsWith("/") || prefix.endsWith("/")) {
    throw new CtlError(
      `the etcd prefix must start with "/" and not end with one, got "${prefix}"`,
      2,
    );
  }
  return {
    router: pick(flags.router, get("WSGW_ROUTER"), state?.router)
      ?.replace(/\/+$/, ""),
    etcd: (etcd ?? "").split(",").map((e) => e.trim()).filter((e) => e),
    prefix,
    apiKeys: keys.apiKeys,
    apiKeySource: keys.source,
    jwtSecret: pick(
      flags["jwt-secret"],
      get("WSGW_JWT_SECRET"),
      state?.jwtSecret,
    ),
    internalSecret: pick(
      flags["internal-secret"],
      get("WSGW_INTERNAL_SECRET"),
      state?.internalSecret,
    ),
    state,
    hint: stateFile === undefined
      ? "or --state-file F from `deno task cluster`"
      : `settings from ${stateFile}`,
  };
}

/** The keys ctl may send and where they came from, first source that has any. */
function apiKeysOf(
  flags: ConfigFlags,
  get: (name: string) => string | undefined,
  stateFile: string | undefined,
  explicit: boolean,
  fromState: string | undefined,
): { apiKeys: ApiKey[]; source: string } {
  type Source = readonly [string, string | undefined];
  const state: Source[] = [[`state file ${stateFile}`, fromState]];
  // An explicit --state-file outranks the environment; WSGW_STATE_FILE does not.
  const sources: Source[] = [
    ["--api-key", flags["api-key"]],
    ...(explicit ? state : []),
    ["WSGW_API_KEY", get("WSGW_API_KEY")],
    ["WSGW_API_KEYS", get("WSGW_API_KEYS")],
    ...(explicit ? [] : state),
  ];
  for (const [source, value] of sources) {
    if (value === undefined || value.trim() === "") continue;
    const entries = value.split(",").map((e) => e.trim()).filter((e) => e);
    try {
      return {
        apiKeys: entries.map((entry, i) => parseApiKey(entry, i + 1, source)),
        source,
      };
    } catch (error) {
      throw new CtlError((error as Error).message, 2, { cause: error });
    }
  }
  return { apiKeys: [], source: "" };
}

/** The value of a required setting, or a CtlError naming how to set it. */
export function need<T>(
  value: T | undefined,
  what: string,
  how: string,
): T {
  if (value === undefined || (Array.isArray(value) && value.length === 0)) {
    throw new CtlError(`no ${what} configured: ${how}`);
  }
  return value;
}
