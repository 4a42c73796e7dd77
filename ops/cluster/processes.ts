/**
 * The processes of a local cluster, as handles built from its port plan:
 * etcd and redis-server with their data in the cluster dir, gateways and
 * routers with their environment, haproxy with a generated config.
 *
 * @module
 */
import { haproxyConfig } from "./haproxy_config.ts";
import {
  type ClusterOptions,
  type GatewayHandle,
  Handle,
  type Lifecycle,
} from "./handle.ts";
import { ManagedProcess } from "./managed_process.ts";
import { freePort, type PortPlan } from "./ports.ts";
import {
  denoSpec,
  etcdSpec,
  haproxySpec,
  local,
  redisSpec,
} from "./services.ts";

/** Every process of a cluster, not started yet. */
export type ClusterProcesses = {
  etcd: Handle;
  redis: Handle;
  gateways: GatewayProcess[];
  routers: Handle[];
  lb: Handle | null;
  /** A new gateway handle on the given ports (not started, not listed). */
  gatewayHandle(
    ports: { public: number; internal: number },
    nodeId: string,
  ): GatewayProcess;
};

/** A gateway's handle as the cluster keeps it. */
export type GatewayProcess = Handle & GatewayHandle & {
  readonly publicPort: number;
};

/** haproxy's admin socket in the cluster dir (reloads are checked through it). */
export const lbSocket = (dir: string): string => `${dir}/haproxy.sock`;

/** What {@link buildProcesses} needs. */
export type ProcessSetup = {
  options: ClusterOptions;
  /** Mutable: a first start that finds a port taken picks another. */
  ports: PortPlan;
  /** True with `--port-base`: ports never change then. */
  fixed: boolean;
  dir: string;
  root: string;
  secrets: { apiKey: string; jwtSecret: string; internalSecret: string };
  prefix: string;
  leaseTtl: number;
  /** haproxy's TLS files, with `--tls`. */
  tls?: { ca: string; pem: string };
  lifecycle: Lifecycle;
};

const GATEWAY_MAIN = "gateway/main.ts";
/**
 * `WSGW_DRAIN_NOTICE_MS` of the gateways behind `--lb`: longer than haproxy
 * needs to mark a node down (two failed checks, `inter 1s fastinter 250ms`).
 */
export const LB_DRAIN_NOTICE_MS = 1500;
const ROUTER_MAIN = "router/main.ts";
/** Variables of the launcher's own environment that must differ per child. */
const PER_CHILD = [
  "PORT",
  "WSGW_NODE_ID",
  "WSGW_PUBLIC_URL",
  "WSGW_INTERNAL_URL",
  "WSGW_INTERNAL_PORT",
];

/** Builds the handles; nothing runs until they are started. */
export function buildProcesses(setup: ProcessSetup): ClusterProcesses {
  const { options, ports, fixed, dir, root, secrets, prefix, leaseTtl } = setup;
  const observer = { line: options.onLine, exit: options.onExit };
  const handle = (name: string, url: () => string, reallocate?: () => void) =>
    new Handle(
      new ManagedProcess(
        name,
        { command: "", args: [], ready: noop },
        observer,
      ),
      options,
      setup.lifecycle,
      url,
      fixed ? undefined : reallocate,
    );
  const etcd = handle("etcd", () => local(ports.etcd), () => {
    ports.etcd = freePort();
    ports.etcdPeer = freePort();
  });
  etcd.build = () => etcdSpec(`${dir}/etcd`, ports.etcd, ports.etcdPeer);
  const redis = handle(
    "redis",
    () => `redis://127.0.0.1:${ports.redis}`,
    () => ports.redis = freePort(),
  );
  redis.build = () => redisSpec(`${dir}/redis`, ports.redis);

  const baseEnv = childEnv(options.env);
  const shared = () => ({
    ...baseEnv,
    WSGW_ETCD: local(ports.etcd),
    WSGW_ETCD_PREFIX: prefix,
    // `env` may point them at another Redis (a Redis Cluster in tests).
    WSGW_REDIS: options.env?.WSGW_REDIS ?? `redis://127.0.0.1:${ports.redis}`,
    WSGW_INTERNAL_SECRET: secrets.internalSecret,
    WSGW_LEASE_TTL: String(leaseTtl),
    WSGW_LOG_LEVEL: options.logLevel ?? "info",
    WSGW_HOST: "127.0.0.1",
    // Every local client comes from 127.0.0.1 (through --lb, from haproxy's
    // address): a per-address limit would throttle them all as one. Set
    // WSGW_CONNECT_RATE to try it anyway.
    WSGW_CONNECT_RATE: baseEnv.WSGW_CONNECT_RATE ?? "0",
    // haproxy takes a draining node out within ~1.3 s (haproxy_config.ts):
    // clients are closed only after that, so they reconnect elsewhere.
    WSGW_DRAIN_NOTICE_MS: baseEnv.WSGW_DRAIN_NOTICE_MS ??
      (options.lb ? String(LB_DRAIN_NOTICE_MS) : "0"),
  });
  const gatewayHandle = (
    p: { public: number; internal: number },
    nodeId: string,
  ) => {
    const h = handle(nodeId, () => local(p.public), () => {
      p.public = freePort();
      p.internal = freePort();
    });
    h.build = () =>
      denoSpec(
        root,
        GATEWAY_MAIN,
        {
          ...shared(),
          // Each role gets only its own secrets.
          WSGW_JWT_SECRET: secrets.jwtSecret,
          WSGW_NODE_ID: nodeId,
          PORT: String(p.public),
          WSGW_INTERNAL_PORT: String(p.internal),
        },
        local(p.public),
        options.denoFlags?.(nodeId),
      );
    // Getters, not copies: a retried first start may change the ports.
    return Object.defineProperties(h, {
      nodeId: { value: nodeId, enumerable: true },
      internalUrl: { get: () => local(p.internal), enumerable: true },
      wsUrl: { get: () => `ws://127.0.0.1:${p.public}/ws`, enumerable: true },
      publicPort: { get: () => p.public },
    }) as GatewayProcess;
  };
  const gateways = ports.gateways.map((p, i) =>
    gatewayHandle(p, `gw-${i + 1}`)
  );
  const routers = ports.routers.map((_, j) => {
    const h = handle(
      `router-${j + 1}`,
      () => local(ports.routers[j]!),
      () => ports.routers[j] = freePort(),
    );
    h.build = () =>
      denoSpec(
        root,
        ROUTER_MAIN,
        {
          ...shared(),
          WSGW_API_KEYS: secrets.apiKey,
          // Routers log it as their routerId.
          WSGW_NODE_ID: `router-${j + 1}`,
          PORT: String(ports.routers[j]),
        },
        local(ports.routers[j]!),
        options.denoFlags?.(`router-${j + 1}`),
      );
    return h;
  });
  const tls = setup.tls;
  const lbUrl = () => tls ? `https://127.0.0.1:${ports.lb}` : local(ports.lb);
  const lb = options.lb
    ? handle("lb", lbUrl, () => ports.lb = freePort())
    : null;
  if (lb) {
    const configPath = `${dir}/haproxy.cfg`;
    lb.build = () => {
      Deno.writeTextFileSync(
        configPath,
        haproxyConfig({
          port: ports.lb,
          // The array the cluster adds gateways to and removes them from.
          servers: gateways.map((g) => ({
            name: g.nodeId,
            port: g.publicPort,
          })),
          tlsPem: tls?.pem,
          statsSocket: lbSocket(dir),
        }),
      );
      return haproxySpec(configPath, ports.lb, lbSocket(dir), tls?.ca);
    };
  }

  return { etcd, redis, gateways, routers, lb, gatewayHandle };
}

/** The launcher's environment without what must differ per child, plus `extra`. */
function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env = Deno.env.toObject();
  for (const name of PER_CHILD) delete env[name];
  return { ...env, ...extra };
}

const noop = () => Promise.resolve(false);
