/**
 * The systems under test, started the same way for every scenario:
 * `wsgw` (the embedded all-in-one when `nodes` is 0, else a cluster from
 * `startCluster`: etcd, Redis, N gateways, one router), `raw` (N independent
 * raw Deno servers) and `sio` (N Socket.IO nodes with the Redis adapter, and
 * an emitter process with the push endpoint, on Node as Socket.IO's users run
 * it; `sio-deno` is the same two scripts under Deno's Node layer).
 *
 * @module
 */
import { startCluster } from "../cluster.ts";
import { freePort } from "../cluster/ports.ts";
import { startRedis } from "../servers/redis_server.ts";
import { Child } from "./child.ts";
import { ensureNodePeers, NODE_PEERS_DIR, nodeVersion } from "./node_peers.ts";
import { inspectorFlag } from "./v8_inspector.ts";

/**
 * Which system: `wsgw-embedded` is wsgw with one process; `sio` runs on
 * Node, `sio-deno` the same Socket.IO peers under Deno.
 */
export type SystemKind = "wsgw" | "wsgw-embedded" | "raw" | "sio" | "sio-deno";

/** Every {@link SystemKind}, for checking `--systems`. */
export const SYSTEM_KINDS: readonly SystemKind[] = [
  "raw",
  "wsgw",
  "wsgw-embedded",
  "sio",
  "sio-deno",
];

/** A running system under test. */
export type System = {
  kind: SystemKind;
  label: string;
  dialect: "wsgw" | "raw" | "sio";
  /** Where clients connect. */
  targets: { hostname: string; port: number }[];
  /** wsgw: base URLs serving the gateways' `/metrics` (cluster: internal ports). */
  gatewayMetricsUrls?: string[];
  /** Push endpoint taking `{"users","data"}`; raw with several nodes: node 1's. */
  pushUrl: string;
  authorization?: string;
  jwtSecret?: string;
  /** Processes that hold client sockets. */
  gatewayPids: number[];
  /**
   * Started with `inspect`: the V8 inspector port of each of `gatewayPids`,
   * in the same order (v8_inspector.ts forces a GC through it).
   */
  inspectorPorts?: number[];
  /** The push-API process (router, emitter), when separate. */
  apiPids: number[];
  /** wsgw cluster: etcd's client URL (its `/metrics` are read). */
  etcdUrl?: string;
  /** wsgw cluster: SIGKILL to socket-holding node `i` (0-based). */
  killNode?(i: number): Promise<void>;
  /** Backends of the system: etcd and Redis (wsgw cluster), Redis (Socket.IO). */
  backendPids: number[];
  /** Sends one broadcast to every socket; resolves when the API accepted it. */
  broadcast(data: unknown): Promise<void>;
  stop(): Promise<void>;
};

const BENCH_API_KEY = "bench-api-key-0123456789abcdef";
const BENCH_JWT_SECRET = "bench-jwt-secret-0123456789abcdef";
const ROOT = new URL("../..", import.meta.url).pathname;
const here = (path: string) => new URL(path, import.meta.url).pathname;
/** `BENCH_CPU_PROF=<dir>`: processes the bench spawns itself write V8 CPU profiles there. */
const PROFILE_DIR = Deno.env.get("BENCH_CPU_PROF");
const denoFlags = profileFlags("server");
/** `deno run` flags for a process the bench spawns: a CPU profile named `name` under `BENCH_CPU_PROF`. */
export function profileFlags(name: string): string[] {
  return PROFILE_DIR
    ? ["--cpu-prof", `--cpu-prof-dir=${PROFILE_DIR}/${name}`]
    : [];
}

/**
 * Inspector ports of the socket-holding processes, by process name, when a
 * system is started with `inspect`; undefined otherwise.
 */
type Inspectors = Map<string, number> | undefined;

/** The `--inspect` flag of process `name` (recorded in `inspectors`), or none. */
function inspectFlags(inspectors: Inspectors, name: string): string[] {
  if (!inspectors) return [];
  const { port, flag } = inspectorFlag();
  inspectors.set(name, port);
  return [flag];
}

/**
 * Starts `kind` with `nodes` socket-holding processes. With `inspect`, those
 * processes open the V8 inspector on loopback (`System.inspectorPorts`), so
 * the bench can force a GC in them.
 */
export function startSystem(
  kind: SystemKind,
  nodes: number,
  options: { lb?: boolean; inspect?: boolean } = {},
): Promise<System> {
  const inspectors: Inspectors = options.inspect ? new Map() : undefined;
  switch (kind) {
    case "wsgw":
      return startWsgwCluster(nodes, options.lb ?? false, inspectors);
    case "wsgw-embedded":
      return startEmbedded(inspectors);
    case "raw":
      return startRaw(nodes, inspectors);
    case "sio":
      return startSio(nodes, "node", inspectors);
    case "sio-deno":
      return startSio(nodes, "deno", inspectors);
  }
}

/** The inspector ports of `names`, in order, when every one has one. */
function portsOf(
  inspectors: Inspectors,
  names: readonly string[],
): number[] | undefined {
  if (!inspectors) return undefined;
  return names.map((name) => {
    const port = inspectors.get(name);
    if (port === undefined) throw new Error(`${name} has no inspector port`);
    return port;
  });
}

async function post(url: string, body: unknown, authorization?: string) {
  const response = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(authorization ? { authorization } : {}),
    },
    body: JSON.stringify(body),
  });
  if (!response.ok) {
    throw new Error(
      `${url} answered ${response.status}: ${await response.text()}`,
    );
  }
  await response.body?.cancel();
}

async function waitReady(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await response.body?.cancel();
      if (response.ok) return;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} not ready within ${timeoutMs} ms`);
}

/** Common environment of wsgw processes in a bench: quiet logs, known secrets. */
function wsgwEnv(): Record<string, string> {
  return {
    WSGW_API_KEYS: BENCH_API_KEY,
    WSGW_JWT_SECRET: BENCH_JWT_SECRET,
    WSGW_LOG_LEVEL: "warn",
    // Every load client connects from loopback.
    WSGW_CONNECT_RATE: "0",
    // One caller pushing as fast as it can is the point of a bench.
    WSGW_KEY_REQUEST_RATE: "0",
    WSGW_KEY_BYTE_RATE: "0",
  };
}

/** A wsgw cluster; with `lb`, clients reach the nodes through haproxy. */
async function startWsgwCluster(
  nodes: number,
  lb: boolean,
  inspectors: Inspectors,
): Promise<System> {
  const cluster = await startCluster({
    nodes,
    lb,
    routers: 1,
    logLevel: "warn",
    apiKey: BENCH_API_KEY,
    jwtSecret: BENCH_JWT_SECRET,
    denoFlags: (name) => [
      ...profileFlags(name),
      ...(name.startsWith("gw-") ? inspectFlags(inspectors, name) : []),
    ],
    env: { WSGW_KEY_REQUEST_RATE: "0", WSGW_KEY_BYTE_RATE: "0" },
  });
  const authorization = `Bearer ${BENCH_API_KEY}`;
  return {
    kind: "wsgw",
    label: `wsgw cluster, ${nodes} node(s)${lb ? " behind haproxy" : ""}`,
    dialect: "wsgw",
    targets: cluster.lb
      ? [{ hostname: "127.0.0.1", port: Number(new URL(cluster.lb.url).port) }]
      : cluster.gateways.map((g) => ({
        hostname: "127.0.0.1",
        port: Number(new URL(g.url).port),
      })),
    gatewayMetricsUrls: cluster.gateways.map((g) => g.internalUrl),
    pushUrl: `${cluster.router}/v1/push`,
    authorization,
    jwtSecret: BENCH_JWT_SECRET,
    gatewayPids: cluster.gateways.map((g) => g.pid!),
    inspectorPorts: portsOf(inspectors, cluster.gateways.map((g) => g.name)),
    apiPids: cluster.routers.map((r) => r.pid!),
    etcdUrl: cluster.etcd.url,
    killNode: (i) => cluster.killGateway(i),
    backendPids: [cluster.etcd.pid, cluster.redis.pid].flatMap((pid) =>
      pid === undefined || pid === null ? [] : [pid]
    ),
    broadcast: (data) =>
      post(`${cluster.router}/v1/broadcast`, { data }, authorization),
    // A process writes its CPU profile only when it exits by itself.
    stop: () => PROFILE_DIR ? cluster.stop() : cluster.kill(),
  };
}

async function startEmbedded(inspectors: Inspectors): Promise<System> {
  const port = freePort();
  const child = new Child("embedded", `${ROOT}gateway/embedded.ts`, {
    env: { ...wsgwEnv(), PORT: String(port) },
    denoFlags: [...denoFlags, ...inspectFlags(inspectors, "embedded")],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitReady(`${url}/readyz`);
  const authorization = `Bearer ${BENCH_API_KEY}`;
  return {
    kind: "wsgw-embedded",
    label: "wsgw embedded (1 process)",
    dialect: "wsgw",
    targets: [{ hostname: "127.0.0.1", port }],
    gatewayMetricsUrls: [url],
    pushUrl: `${url}/v1/push`,
    authorization,
    jwtSecret: BENCH_JWT_SECRET,
    gatewayPids: [child.pid],
    inspectorPorts: portsOf(inspectors, ["embedded"]),
    apiPids: [],
    // In-memory registry and history: no backend process.
    backendPids: [],
    broadcast: (data) => post(`${url}/v1/broadcast`, { data }, authorization),
    stop: () => child.kill(),
  };
}

/**
 * Starts a peer script that prints `{"port"}`; resolves with it and its
 * port. Its CPU profile goes to `BENCH_CPU_PROF/<name>`, so the emitter's
 * is told from the nodes'.
 */
async function peer(
  name: string,
  script: string,
  env: Record<string, string>,
  runtime: "deno" | "node" = "deno",
  inspectors?: Inspectors,
): Promise<{ child: Child; port: number }> {
  const flags = [...profileFlags(name), ...inspectFlags(inspectors, name)];
  const child = runtime === "node"
    ? new Child(name, script, { env, runtime, nodeFlags: flags })
    : new Child(name, here(script), { env, denoFlags: flags });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${name}: no port within 60 s`)),
      60_000,
    );
    const off = child.on((line) => {
      if (typeof line.port === "number") {
        clearTimeout(timer);
        off();
        resolve(line.port);
      }
    });
    child.done.then(() => reject(new Error(`${name} exited during start`)));
  });
  return { child, port };
}

async function startRaw(
  nodes: number,
  inspectors: Inspectors,
): Promise<System> {
  const names = Array.from({ length: nodes }, (_, i) => `raw-${i + 1}`);
  const peers = await Promise.all(
    names.map((name) =>
      peer(name, "./peers/raw_server.ts", {}, "deno", inspectors)
    ),
  );
  const urls = peers.map((p) => `http://127.0.0.1:${p.port}`);
  return {
    kind: "raw",
    label: `raw Deno, ${nodes} process(es)`,
    dialect: "raw",
    targets: peers.map((p) => ({ hostname: "127.0.0.1", port: p.port })),
    pushUrl: `${urls[0]}/push`,
    gatewayPids: peers.map((p) => p.child.pid),
    inspectorPorts: portsOf(inspectors, names),
    apiPids: [],
    backendPids: [],
    broadcast: async (data) => {
      await Promise.all(urls.map((url) => post(`${url}/broadcast`, { data })));
    },
    stop: async () => {
      await Promise.all(peers.map((p) => p.child.kill()));
    },
  };
}

/** Socket.IO on `runtime`: ops/bench/peers/node/*.mjs, or peers/*.ts on Deno. */
async function startSio(
  nodes: number,
  runtime: "deno" | "node",
  inspectors: Inspectors,
): Promise<System> {
  let script: (name: string) => string;
  let label: string;
  if (runtime === "node") {
    // main.ts installs them up front, announced; this covers other callers.
    await ensureNodePeers(() => {});
    script = (name) => `${NODE_PEERS_DIR}${name}.mjs`;
    label = `Socket.IO + redis-adapter on Node ${await nodeVersion()}`;
  } else {
    script = (name) => `./peers/${name}.ts`;
    label =
      `Socket.IO + redis-adapter on Deno ${Deno.version.deno} (Node layer)`;
  }
  const redis = await startRedis();
  const env = { REDIS: redis.url };
  const names = Array.from({ length: nodes }, (_, i) => `sio-${i + 1}`);
  const [emitter, ...peers] = await Promise.all([
    peer("sio-emitter", script("sio_emitter"), env, runtime),
    ...names.map((name) =>
      peer(name, script("sio_server"), env, runtime, inspectors)
    ),
  ]);
  const api = `http://127.0.0.1:${emitter!.port}`;
  return {
    kind: runtime === "node" ? "sio" : "sio-deno",
    label: `${label}, ${nodes} node(s)`,
    dialect: "sio",
    targets: peers.map((p) => ({ hostname: "127.0.0.1", port: p.port })),
    pushUrl: `${api}/push`,
    gatewayPids: peers.map((p) => p.child.pid),
    inspectorPorts: portsOf(inspectors, names),
    apiPids: [emitter!.child.pid],
    backendPids: redis.pid === undefined ? [] : [redis.pid],
    broadcast: (data) => post(`${api}/broadcast`, { data }),
    stop: async () => {
      await Promise.all([emitter!, ...peers].map((p) => p.child.kill()));
      await redis.stop();
    },
  };
}
