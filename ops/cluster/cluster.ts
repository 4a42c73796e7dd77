/**
 * `startCluster()`: a local wsgw cluster as child processes (etcd,
 * redis-server, N gateways, M routers, optionally haproxy), for
 * `deno task cluster`, the integration tests and the chaos tests.
 *
 * @example
 * ```ts
 * await using cluster = await startCluster({ nodes: 3, leaseTtl: 2 });
 * const token = await cluster.token("alice");
 * new WebSocket(`${cluster.gateways[0]!.wsUrl}?token=${token}`);
 * await cluster.killGateway(1); // SIGKILL: its keys vanish with its lease
 * ```
 *
 * @module
 */
import { makeThrowawayCert } from "./tls_cert.ts";
import { signToken } from "../../shared/token.ts";
import { fixedPorts, freePorts, type PortPlan } from "./ports.ts";
import { gatewaySet } from "./gateway_set.ts";
import { onPath } from "./services.ts";
import type { ClusterState } from "../../shared/cluster_state.ts";
import {
  type ClusterOptions,
  ClusterStartError,
  type GatewayHandle,
  type Handle,
  type Lifecycle,
  type ProcessHandle,
} from "./handle.ts";
import { buildProcesses } from "./processes.ts";

export {
  type ClusterOptions,
  ClusterStartError,
  type GatewayHandle,
  type ProcessHandle,
} from "./handle.ts";

/** A running local cluster; see the module doc. */
export type Cluster = AsyncDisposable & {
  /** The temp dir holding etcd's and Redis's data and the haproxy config. */
  readonly dir: string;
  readonly apiKey: string;
  readonly jwtSecret: string;
  readonly internalSecret: string;
  readonly etcdPrefix: string;
  /** Seconds (`WSGW_LEASE_TTL` of the gateways). */
  readonly leaseTtl: number;
  readonly etcd: ProcessHandle;
  readonly redis: ProcessHandle;
  readonly lb: ProcessHandle | null;
  /** With `tls`: the CA certificate (PEM file) clients of `lb` must trust. */
  readonly tlsCa: string | null;
  readonly gateways: readonly GatewayHandle[];
  readonly routers: readonly ProcessHandle[];
  /** The first router's URL: the push API. */
  readonly router: string;
  /** What the state file holds (current pids). */
  state(): ClusterState;
  /** Signs a client token with the cluster's JWT secret. */
  token(
    user: string,
    options?: { device?: string; expiresIn?: string | number },
  ): Promise<string>;
  /**
   * Starts one more gateway (`gw-<highest + 1>`), waits until it is ready,
   * and with `lb` reloads haproxy with it (clients already connected stay).
   */
  addGateway(): Promise<GatewayHandle>;
  /**
   * Drains and stops a gateway, drops it from the cluster and from haproxy's
   * config (reloaded; the other clients stay).
   */
  removeGateway(nodeId: string): Promise<void>;
  /** SIGKILL to gateway `i` (0-based); resolves once it has exited. */
  killGateway(i: number): Promise<void>;
  stopEtcd(): Promise<void>;
  /** Starts etcd again on the same ports and data dir. */
  startEtcd(): Promise<void>;
  stopRedis(): Promise<void>;
  /** Starts redis-server again on the same port and data dir. */
  startRedis(): Promise<void>;
  /** Starts every process; resolves once all are ready. Done by `startCluster()`. */
  start(): Promise<void>;
  /**
   * Stops everything in order (gateways drain first, then the balancer, the
   * routers, etcd and Redis; SIGKILL after `stopTimeoutMs`) and removes the
   * temp dir. Calling it again returns the same promise.
   */
  stop(): Promise<void>;
  /** SIGKILL to every process at once, then removes the temp dir. */
  kill(): Promise<void>;
};

/**
 * Starts a cluster and resolves once every process answers ready.
 *
 * @throws {ClusterStartError} when a binary is missing or a process does not
 * become ready; everything started so far is stopped and removed first.
 */
export async function startCluster(
  options: ClusterOptions = {},
): Promise<Cluster> {
  const cluster = await createCluster(options);
  await cluster.start();
  return cluster;
}

/**
 * Prepares a cluster (checks binaries, makes the temp dir, picks ports)
 * without starting it, so a caller can stop or kill it while it starts.
 *
 * @throws {ClusterStartError} when a binary is missing.
 * @throws {RangeError} for a bad count, TTL or port base.
 */
export async function createCluster(
  options: ClusterOptions = {},
): Promise<Cluster> {
  const nodes = options.nodes ?? 3;
  const routerCount = options.routers ?? 1;
  const leaseTtl = options.leaseTtl ?? 10;
  checkCounts(nodes, routerCount, leaseTtl);
  const fixed = options.portBase !== undefined;
  const ports: PortPlan = fixed
    ? fixedPorts(options.portBase!, nodes, routerCount)
    : freePorts(nodes, routerCount);
  if (options.tls && !options.lb) {
    throw new ClusterStartError("--tls needs --lb: haproxy terminates TLS");
  }
  for (
    const binary of [
      "etcd",
      "redis-server",
      ...(options.lb ? ["haproxy"] : []),
      ...(options.tls ? ["openssl"] : []),
    ]
  ) {
    if (!await onPath(binary)) {
      throw new ClusterStartError(
        `${binary} is not on PATH: ${INSTALL[binary]}`,
      );
    }
  }

  const root = options.root ??
    new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
  const dir = options.dir ??
    await Deno.makeTempDir({ prefix: "wsgw-cluster-" });
  // etcd warns about a data dir others may read.
  await Deno.mkdir(`${dir}/etcd`, { recursive: true, mode: 0o700 });
  await Deno.mkdir(`${dir}/redis`, { recursive: true, mode: 0o700 });
  const secrets = {
    apiKey: options.apiKey ?? randomSecret("key_"),
    jwtSecret: options.jwtSecret ?? randomSecret(""),
    internalSecret: options.internalSecret ?? randomSecret(""),
  };
  const prefix = options.etcdPrefix ?? "/wsgw";
  const tls = options.tls ? await makeThrowawayCert(dir) : undefined;
  const say = options.log ?? (() => {});
  const lifecycle: Lifecycle = { stopping: false };
  const { etcd, redis, gateways, routers, lb, gatewayHandle } = buildProcesses({
    options,
    ports,
    fixed,
    dir,
    root,
    secrets,
    prefix,
    leaseTtl,
    lifecycle,
    tls,
  });

  const all: Handle[] = [etcd, redis, ...gateways, ...routers];
  if (lb) all.push(lb);
  const stopAll = async () => {
    const stop = (list: Handle[]) => Promise.all(list.map((h) => h.stop()));
    await stop(gateways);
    if (lb) await stop([lb]);
    await stop(routers);
    await stop([etcd, redis]);
  };

  let started: Promise<void> | undefined;
  const start = () =>
    started ??= (async () => {
      try {
        say(`starting etcd and redis-server in ${dir}`);
        await Promise.all([etcd.start(), redis.start()]);
        say(`starting ${nodes} gateway(s) and ${routerCount} router(s)`);
        await Promise.all([...gateways, ...routers].map((h) => h.start()));
        if (lb) {
          say("starting haproxy");
          await lb.start();
        }
      } catch (error) {
        await stop();
        throw error instanceof ClusterStartError
          ? error
          : new ClusterStartError(
            error instanceof Error ? error.message : String(error),
            { cause: error },
          );
      }
      for (const h of all) h.started = true;
    })();

  const { addGateway, removeGateway } = gatewaySet({
    gateways,
    all,
    ports,
    fixed,
    portBase: options.portBase,
    lb,
    dir,
    readyTimeoutMs: options.readyTimeoutMs ?? 60_000,
    lifecycle,
    gatewayHandle,
    say,
  });

  let stopping: Promise<void> | undefined;
  const removeDir = async () => {
    if (!options.dir) {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  };
  const stop = () => {
    lifecycle.stopping = true;
    return stopping ??= stopAll().then(removeDir);
  };
  return {
    dir,
    ...secrets,
    etcdPrefix: prefix,
    leaseTtl,
    etcd,
    redis,
    lb,
    tlsCa: tls?.ca ?? null,
    gateways,
    routers,
    get router() {
      return routers[0]!.url;
    },
    state: () => ({
      router: routers[0]!.url,
      routers: routers.map((r) => r.url),
      gateways: gateways.map((g) => ({
        nodeId: g.nodeId,
        url: g.url,
        internalUrl: g.internalUrl,
        pid: g.pid ?? 0,
      })),
      etcd: etcd.url,
      redis: redis.url,
      lb: lb?.url ?? null,
      apiKey: secrets.apiKey,
      jwtSecret: secrets.jwtSecret,
      internalSecret: secrets.internalSecret,
      prefix,
    }),
    token: (user, { device, expiresIn = "1h" } = {}) =>
      signToken(secrets.jwtSecret, { sub: user, device }, expiresIn),
    addGateway,
    removeGateway,
    killGateway: (i) => {
      const gateway = gateways[i];
      if (!gateway) throw new RangeError(`no gateway ${i} (0-based)`);
      return gateway.kill("SIGKILL");
    },
    stopEtcd: () => etcd.stop(),
    startEtcd: () => etcd.start(),
    stopRedis: () => redis.stop(),
    startRedis: () => redis.start(),
    start,
    stop,
    kill: () => {
      lifecycle.stopping = true;
      // Also when a stop is under way: a second Ctrl-C means now.
      const killing = Promise.all(all.map((h) => h.kill("SIGKILL")));
      return stopping = Promise.all([killing, stopping]).then(removeDir);
    },
    [Symbol.asyncDispose]: stop,
  };
}

const INSTALL: Record<string, string> = {
  etcd: "install etcd (Debian: apt-get install etcd-server etcd-client)",
  "redis-server": "install Redis (Debian: apt-get install redis-server)",
  haproxy:
    "install haproxy (Debian: apt-get install haproxy) or run without --lb",
  openssl:
    "install openssl (Debian: apt-get install openssl) or run without --tls",
};

function checkCounts(nodes: number, routers: number, leaseTtl: number): void {
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 200) {
    throw new RangeError(
      `nodes must be an integer from 1 to 200, got ${nodes}`,
    );
  }
  if (!Number.isInteger(routers) || routers < 1 || routers > 10) {
    throw new RangeError(
      `routers must be an integer from 1 to 10, got ${routers}`,
    );
  }
  if (!Number.isInteger(leaseTtl) || leaseTtl < 2) {
    throw new RangeError(
      `leaseTtl must be a whole number of seconds >= 2, got ${leaseTtl}`,
    );
  }
}

function randomSecret(prefix: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return prefix + btoa(String.fromCharCode(...bytes))
    .replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}
