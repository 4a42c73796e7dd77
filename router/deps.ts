/**
 * What the router app is built from. Everything is injected, so the cluster
 * router, the embedded process and tests compose it differently.
 *
 * @module
 */
import type { Config } from "../shared/config.ts";
import type { ReadyCheck } from "../shared/health_routes.ts";
import type { History } from "../shared/history/mod.ts";
import type { Logger } from "../shared/log.ts";
import type { prom } from "../shared/metrics.ts";
import type { Registry } from "../shared/registry/mod.ts";
import type { RouterMetrics } from "./metrics.ts";
import type { MissedDeliveries } from "./missed_deliveries.ts";
import type { NodeClient } from "./node_client.ts";
import type { NodeDrainer } from "./node_drainer.ts";
import type { RouteCache } from "./route_cache.ts";

/** Dependencies of {@link createRouterApp} (router/app.ts). */
export type RouterDeps = {
  config: Config;
  registry: Registry;
  history: History;
  nodes: NodeClient;
  routes: RouteCache;
  /**
   * Where users whose delivery to a node failed are remembered, so the node
   * catches them up once it answers; absent when nodes are in-process.
   */
  missed?: MissedDeliveries;
  log: Logger;
  metrics: RouterMetrics;
  /** Registries rendered by `GET /metrics`, the router's own among them. */
  metricsRegistries: readonly prom.Registry[];
  /**
   * More `/readyz` checks by name, e.g. `{ draining: () => … }` from the
   * embedded process.
   */
  readyChecks?: Readonly<Record<string, ReadyCheck>>;
  /**
   * Starts a node's drain for `POST /v1/admin/nodes/{node}/drain`. Default:
   * the node's internal API with `config.internalSecret`
   * (router/node_drainer.ts); the embedded process drains its own node.
   */
  drainNode?: NodeDrainer;
  /** How long a push waits on the same id being pushed by another request. @default 5000 */
  pendingWaitMs?: number;
};
