/**
 * The cluster state file (PROTOCOL.md "Local cluster state file"): what
 * `deno task cluster --state-file F` writes once everything is ready, and
 * what `deno task ctl --state-file F`, `deno task demo --state-file F` and
 * the tests read back. It lives in shared/ because ops/ and demo/ both read
 * it and neither may import the other.
 *
 * @module
 */

/** One gateway node in the state file. */
export type GatewayState = {
  nodeId: string;
  url: string;
  /** Its internal API (`POST /internal/drain`, `/metrics`); always written. */
  internalUrl?: string;
  /** 0 while it is not running. */
  pid: number;
};

/** The JSON of a state file, exactly these keys. */
export type ClusterState = {
  /** The first router's URL: the push API. */
  router: string;
  routers: string[];
  gateways: GatewayState[];
  /** etcd client URL. */
  etcd: string;
  /** `redis://127.0.0.1:<port>` */
  redis: string;
  /** haproxy in front of the gateways, or null without `--lb`. */
  lb: string | null;
  apiKey: string;
  jwtSecret: string;
  /** `WSGW_INTERNAL_SECRET` of gateways and routers (ctl drain uses it); always written. */
  internalSecret?: string;
  /** `WSGW_ETCD_PREFIX`; always written. */
  prefix?: string;
  /**
   * The launcher's control endpoint (`deno task ctl cluster …`); written by
   * `deno task cluster`, absent for a cluster run as a library.
   */
  control?: { url: string; token: string };
};

/** Writes `state` to `path`, readable by the owner only (it holds secrets). */
export async function writeStateFile(
  path: string,
  state: ClusterState,
): Promise<void> {
  // Write beside it, then rename: a reader never sees half a file.
  const temp = `${path}.${Deno.pid}.tmp`;
  await Deno.writeTextFile(temp, JSON.stringify(state, null, 2) + "\n", {
    mode: 0o600,
  });
  await Deno.rename(temp, path);
}

/**
 * Reads and checks a state file.
 *
 * @throws {Error} naming the file and what is wrong with it.
 */
export async function readStateFile(path: string): Promise<ClusterState> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new Error(
      `cannot read state file ${path}: ${
        error instanceof Error ? error.message : error
      } (is \`deno task cluster --state-file ${path}\` running?)`,
      { cause: error },
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`state file ${path} is not JSON`, { cause: error });
  }
  const problem = stateProblem(value);
  if (problem) throw new Error(`state file ${path}: ${problem}`);
  return value as ClusterState;
}

/** Why `value` is not a {@link ClusterState}, or undefined when it is one. */
export function stateProblem(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null) return "not an object";
  const v = value as Record<string, unknown>;
  for (const key of ["router", "etcd", "redis", "apiKey", "jwtSecret"]) {
    if (typeof v[key] !== "string") return `"${key}" must be a string`;
  }
  // Written by every launcher since the cluster control commands; optional
  // for files written by hand.
  for (const key of ["internalSecret", "prefix"]) {
    if (v[key] !== undefined && typeof v[key] !== "string") {
      return `"${key}" must be a string`;
    }
  }
  const control = v.control as Record<string, unknown> | undefined;
  if (
    control !== undefined &&
    (typeof control !== "object" || control === null ||
      typeof control.url !== "string" || typeof control.token !== "string")
  ) return `"control" must be {url, token}`;
  if (v.lb !== null && typeof v.lb !== "string") {
    return `"lb" must be a string or null`;
  }
  if (
    !Array.isArray(v.routers) ||
    !v.routers.every((r) => typeof r === "string")
  ) return `"routers" must be an array of strings`;
  if (
    !Array.isArray(v.gateways) ||
    !v.gateways.every((g) =>
      typeof g === "object" && g !== null &&
      typeof g.nodeId === "string" && typeof g.url === "string" &&
      (g.internalUrl === undefined || typeof g.internalUrl === "string") &&
      Number.isInteger(g.pid)
    )
  ) return `"gateways" must be an array of {nodeId, url, internalUrl?, pid}`;
  return undefined;
}
