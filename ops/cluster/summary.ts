/**
 * The few lines `deno task cluster` prints once ready: where everything is,
 * the secrets, and how to get a token and push.
 *
 * @module
 */
import type { Cluster } from "./cluster.ts";

/** The summary of a ready cluster; `stateFile` is where ctl can read it. */
export function clusterSummary(
  cluster: Cluster,
  startMs: number,
  stateFile: string,
): string {
  const rows: [string, string][] = [];
  for (const router of cluster.routers) {
    rows.push([router.name, `${router.url}  (push API)`]);
  }
  for (const gateway of cluster.gateways) {
    rows.push([
      gateway.nodeId,
      `${gateway.url}  ${gateway.wsUrl}  pid ${gateway.pid}`,
    ]);
  }
  if (cluster.lb) {
    const ws = cluster.lb.url.replace(/^http/, "ws");
    rows.push(["lb", `${cluster.lb.url}  ${ws}/ws  (haproxy, leastconn)`]);
  }
  if (cluster.tlsCa) {
    rows.push([
      "tls ca",
      `${cluster.tlsCa}  (clients: DENO_CERT=${cluster.tlsCa})`,
    ]);
  }
  rows.push(["etcd", `${cluster.etcd.url}  prefix ${cluster.etcdPrefix}`]);
  rows.push(["redis", cluster.redis.url]);
  rows.push(["api key", cluster.apiKey]);
  rows.push(["jwt secret", cluster.jwtSecret]);
  const width = Math.max(...rows.map(([name]) => name.length));
  const ws = cluster.lb
    ? `${cluster.lb.url.replace(/^http/, "ws")}/ws`
    : cluster.gateways[0]!.wsUrl;
  const body = JSON.stringify({ users: ["alice"], data: { text: "hi" } });
  return [
    `wsgw cluster ready in ${(startMs / 1000).toFixed(1)} s`,
    ...rows.map(([name, value]) => `  ${name.padEnd(width)}  ${value}`),
    "",
    `  state file  ${stateFile}`,
    `  in another shell:  export WSGW_STATE_FILE=${stateFile}`,
    `  internal secret:   ${cluster.internalSecret}  (in the state file too)`,
    `  token:   deno task ctl token alice`,
    `  connect: ${ws}?token=<token>`,
    `  push:    curl -s ${cluster.router}/v1/push -H 'authorization: Bearer ${cluster.apiKey}' \\`,
    `             -H 'content-type: application/json' -d '${body}'`,
    `  nodes:   deno task ctl nodes`,
    `  drills:  deno task ctl cluster restart gw-1 --env NAME=value   (also stop|start etcd, redis, router-1, lb)`,
    "  Ctrl-C stops everything.",
  ].join("\n");
}
