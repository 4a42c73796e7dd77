/**
 * Helpers for tests on a real local cluster (`ops/cluster.ts`): start one
 * with test defaults, call its push API, read a metric, list the registry
 * keys, connect a client to a given node, and check that a pid is gone.
 *
 * @module
 */
import {
  type Cluster,
  type ClusterOptions,
  startCluster,
} from "../../ops/cluster.ts";
import { EtcdReader, type UserKey } from "../../ops/ctl/etcd_reader.ts";
import { TestClient } from "./ws_client.ts";
import type { WelcomeFrame } from "../../shared/protocol.ts";

export type { Cluster } from "../../ops/cluster.ts";

/** A cluster for a test: 3 nodes, 1 router, short leases, quiet logs. */
export function startTestCluster(
  options: ClusterOptions = {},
): Promise<Cluster> {
  return startCluster({
    nodes: 3,
    routers: 1,
    leaseTtl: 2,
    apiKey: "test-api-key-0123456789abcdef",
    // Set WSGW_TEST_CLUSTER_LOGS=1 to see every process's lines.
    onLine: Deno.env.get("WSGW_TEST_CLUSTER_LOGS")
      // deno-lint-ignore no-console
      ? (name, line) => console.error(`[${name}] ${line}`)
      : undefined,
    stopTimeoutMs: 5000,
    ...options,
  });
}

/** Calls `base` (a router) with the cluster's API key; returns status and JSON. */
export async function api(
  cluster: Cluster,
  method: string,
  path: string,
  body?: unknown,
  base: string = cluster.router,
  // deno-lint-ignore no-explicit-any
): Promise<{ status: number; body: any }> {
  const response = await fetch(base + path, {
    method,
    headers: {
      authorization: `Bearer ${cluster.apiKey}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) };
  } catch {
    return { status: response.status, body: text };
  }
}

/**
 * The value of a metric sample on `<url>/metrics` (0 when absent); `labels`
 * must match the sample's labels exactly, e.g. `{status: "ok"}`.
 */
export async function metric(
  url: string,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).sort()
    .join(",");
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = (match[2] ?? "").split(",").filter((l) => l).sort().join(",");
    if (have === want) return Number(match[3]);
  }
  return 0;
}

/** Every (user, node) key in the cluster's etcd. */
export async function userKeys(cluster: Cluster): Promise<UserKey[]> {
  const reader = new EtcdReader([cluster.etcd.url], cluster.etcdPrefix);
  return (await reader.users(undefined, 1_000_000)).users;
}

/** The node ids holding `user` in etcd, sorted. */
export async function ownersInEtcd(
  cluster: Cluster,
  user: string,
): Promise<string[]> {
  const reader = new EtcdReader([cluster.etcd.url], cluster.etcdPrefix);
  return (await reader.owners(user)).map((k) => k.nodeId).sort();
}

/** Opens a client of `user` on gateway `i` (0-based) and waits for its welcome. */
export async function connect(
  cluster: Cluster,
  i: number,
  user: string,
  options: { device?: string; since?: number; epoch?: string } = {},
): Promise<{ client: TestClient; welcome: WelcomeFrame }> {
  const url = new URL(cluster.gateways[i]!.wsUrl);
  url.searchParams.set(
    "token",
    await cluster.token(user, { device: options.device }),
  );
  if (options.since !== undefined) {
    url.searchParams.set("since", String(options.since));
  }
  if (options.epoch !== undefined) url.searchParams.set("epoch", options.epoch);
  return await TestClient.welcomed(url.href);
}

/** True while `pid` is a live (not zombie) process. */
export function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // The state follows the parenthesized command name: "123 (deno) S …".
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !==
      "Z";
  } catch {
    return false; // no such process
  }
}

/** Pids of the live children of `parent` (from /proc). */
export function childrenOf(parent: number): number[] {
  const pids: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[1]) === parent && fields[0] !== "Z") {
        pids.push(Number(entry.name));
      }
    } catch {
      // exited while we looked
    }
  }
  return pids;
}
