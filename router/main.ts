/**
 * `deno task router`: one router replica. Serves the push API, mirrors the
 * users prefix of etcd in its route cache, keeps history in Redis, and hands
 * pushes to the owning gateway nodes over their internal HTTP API. Stateless:
 * run as many side by side as you like.
 *
 * @module
 */
import { connectClusterBackends } from "../shared/cluster_backends.ts";
import type { Config } from "../shared/config.ts";
import { deadline } from "../shared/deadline.ts";
import { configFromEnv, exitOnSignals } from "../shared/entry_point.ts";
import type { Logger } from "../shared/log.ts";
import { serve, shutdownWithin } from "../shared/serve.ts";
import { createRouterApp } from "./app.ts";
import { MissedDeliveries } from "./missed_deliveries.ts";
import { createRouterMetrics } from "./metrics.ts";
import { HttpNodeClient } from "./node_client.ts";
import { RouteCache } from "./route_cache.ts";

/** Longest a router waits for its first registry listing before serving anyway. */
const FIRST_LISTING_TIMEOUT_MS = 30_000;

/** A running router process. */
export type RouterProcess = { url: string; shutdown(): Promise<void> };

/** Starts one router replica with etcd and Redis backends. */
export async function startRouter(
  config: Config,
  log: Logger,
): Promise<RouterProcess> {
  const backends = await connectClusterBackends(config, log);
  const { registry, history, metricsRegistry } = backends;
  const routes = new RouteCache({ registry, log });
  routes.start();
  const started = performance.now();
  await deadline(
    routes.ready,
    FIRST_LISTING_TIMEOUT_MS,
    "first registry listing",
  ).then(
    () =>
      log.info("route cache loaded", {
        entries: routes.size,
        nodes: routes.nodes().length,
        ms: Math.round(performance.now() - started),
      }),
    // /readyz stays 503 until the listing arrives; serving health meanwhile
    // lets an orchestrator see why.
    (error) => log.warn("route cache not loaded yet", { error }),
  );
  const nodes = new HttpNodeClient({
    secret: config.internalSecret,
    maxQueued: config.maxPendingForwards,
    urlPolicy: config.internalUrlPolicy,
  });
  const missed = new MissedDeliveries({
    nodes,
    node: (nodeId) => routes.node(nodeId),
    log,
  });
  const app = createRouterApp({
    config,
    registry,
    history,
    routes,
    missed,
    log,
    metrics: createRouterMetrics(metricsRegistry, {
      routeCacheEntries: () => routes.size,
      routeCacheLastEventAt: () => routes.lastEventAt,
      routeCacheReady: () => routes.isReady,
      liveNodes: () => routes.nodes().map((node) => node.nodeId),
    }),
    nodes,
    metricsRegistries: [metricsRegistry],
  });
  const { server, url } = await serve(config.host, config.port, app.fetch);
  log.info("router listening", { url });
  let stopping: Promise<void> | undefined;
  return {
    url,
    shutdown: () =>
      stopping ??= (async () => {
        await shutdownWithin(server, undefined, () =>
          log.warn("server shutdown cut short: connections still open"));
        missed[Symbol.dispose]();
        await routes[Symbol.asyncDispose]();
        await backends[Symbol.asyncDispose]();
      })(),
  };
}

if (import.meta.main) {
  const { config, log } = configFromEnv("router");
  const router = await startRouter(config, log).catch((error) => {
    log.error("router failed to start", { error });
    Deno.exit(1);
  });
  exitOnSignals(() => router.shutdown(), log);
}
