/**
 * The embedded all-in-one: one process serves the push API (the router app)
 * and one gateway node on the same port, with the in-memory registry and
 * history: no etcd, no Redis. `deno task start` runs it with the demo
 * mounted (demo/embedded_demo.ts); run on its own it serves no demo.
 *
 * @example
 * ```sh
 * deno run -A gateway/embedded.ts      # http://127.0.0.1:8080, dev secrets
 * ```
 * @module
 */
import type { Hono } from "hono";
import type { Config } from "../shared/config.ts";
import { configFromEnv, exitOnSignals } from "../shared/entry_point.ts";
import { MemoryHistory } from "../shared/history/mod.ts";
import { createLogger, type Logger } from "../shared/log.ts";
import { createMetricsRegistry } from "../shared/metrics.ts";
import { MemoryRegistry } from "../shared/registry/mod.ts";
import { serve, shutdownWithin } from "../shared/serve.ts";
import { createRouterApp } from "../router/app.ts";
import { createRouterMetrics } from "../router/metrics.ts";
import { LocalNodeClient } from "../router/node_client.ts";
import { RouteCache } from "../router/route_cache.ts";
import { GatewayNode } from "./gateway_node.ts";
import { createPublicRoutes } from "./public_routes.ts";
import { createPublicHandler } from "./ws_handler.ts";

/** A running embedded process. */
export type Embedded = AsyncDisposable & {
  /** Base URL, e.g. `http://127.0.0.1:8080`. */
  url: string;
  node: GatewayNode;
  /** Drains the node (1012 to every client), then stops serving. */
  shutdown(): Promise<void>;
};

/**
 * Routes a caller serves beside the push API in the same process (the demo),
 * stopped before the node drains.
 */
export type MountedService = AsyncDisposable & { app: Hono };

/** Options of {@link startEmbedded}. */
export type EmbeddedOptions = {
  /**
   * Builds routes to serve on the same port, given the push API as an
   * in-process fetch (its HTTP contract without a socket).
   */
  mount?: (pushApi: (request: Request) => Promise<Response>) => MountedService;
};

/** Starts the embedded process on `config.port` (0 picks a free port). */
export async function startEmbedded(
  config: Config,
  log: Logger = createLogger({ level: config.logLevel }),
  options: EmbeddedOptions = {},
): Promise<Embedded> {
  const registry = new MemoryRegistry();
  const history = new MemoryHistory({
    size: config.historySize,
    ttl: config.historyTtl,
  });
  const gatewayMetricsRegistry = createMetricsRegistry({ defaults: true });
  const routerMetricsRegistry = createMetricsRegistry();
  const gateway = new GatewayNode({
    config,
    registry,
    history,
    log,
    metricsRegistry: gatewayMetricsRegistry,
  });
  const routes = new RouteCache({ registry, log });
  routes.start();
  const app = createRouterApp({
    config,
    registry,
    history,
    nodes: new LocalNodeClient(gateway),
    routes,
    log,
    metrics: createRouterMetrics(routerMetricsRegistry, {
      routeCacheEntries: () => routes.size,
      routeCacheLastEventAt: () => routes.lastEventAt,
      routeCacheReady: () => routes.isReady,
      liveNodes: () => routes.nodes().map((node) => node.nodeId),
    }),
    metricsRegistries: [routerMetricsRegistry, gatewayMetricsRegistry],
    readyChecks: { node: () => gateway.assertReady() },
    // The operator console's drain: this process's one node, in the background.
    drainNode: (_node, pace) => {
      gateway.drain(pace).catch((error) =>
        log.error("drain failed", { error })
      );
      return Promise.resolve();
    },
  });
  app.route(
    "/",
    createPublicRoutes({ allowedOrigins: config.allowedOrigins }),
  );
  const mounted = options.mount?.(async (request) => await app.fetch(request));
  if (mounted) app.route("/", mounted.app);
  const { server, url } = await serve(
    config.host,
    config.port,
    createPublicHandler(gateway, app),
  );
  await gateway.start({ url, internalUrl: "in-process" });
  await routes.ready;
  log.info("embedded gateway listening", { url });

  let stopped: Promise<void> | undefined;
  const shutdown = () =>
    stopped ??= (async () => {
      await mounted?.[Symbol.asyncDispose]();
      await gateway.drain();
      await routes[Symbol.asyncDispose]();
      await shutdownWithin(server, undefined, () =>
        log.warn("server shutdown cut short: connections still open"));
    })();
  return { url, node: gateway, shutdown, [Symbol.asyncDispose]: shutdown };
}

if (import.meta.main) {
  const { config, log } = configFromEnv("embedded");
  const embedded = await startEmbedded(config, log);
  exitOnSignals(() => embedded.shutdown(), log);
}
