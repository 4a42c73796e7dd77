/**
 * `deno task gateway`: one gateway node of a cluster. Public port: `/ws`,
 * `/client.js` and health. Internal port: the node API routers call, behind
 * the internal secret, and `/metrics` (kept off the port clients reach). Registers in etcd; reads history from Redis.
 * SIGTERM drains (1012 to every client, paced); a second SIGTERM exits at once.
 *
 * @module
 */
import { cachedCall, PING_CACHE_MS } from "../shared/cached_call.ts";
import { connectClusterBackends } from "../shared/cluster_backends.ts";
import type { Config } from "../shared/config.ts";
import { configFromEnv, exitOnSignals } from "../shared/entry_point.ts";
import { createHealthRoutes } from "../shared/health_routes.ts";
import type { Logger } from "../shared/log.ts";
import { renderMetrics } from "../shared/metrics.ts";
import { NodeIdTakenError } from "../shared/registry/mod.ts";
import { serve, shutdownWithin } from "../shared/serve.ts";
import { GatewayNode } from "./gateway_node.ts";
import { createInternalApp, type DrainPace } from "./internal_app.ts";
import { createPublicRoutes } from "./public_routes.ts";
import { createPublicHandler } from "./ws_handler.ts";

/** A running gateway process. */
export type GatewayProcess = {
  node: GatewayNode;
  url: string;
  internalUrl: string;
  /** Drains the node, then closes servers and backends. */
  shutdown(): Promise<void>;
  /** Closes servers and backends without draining (clients see 1006). */
  kill(): Promise<void>;
};

/** Starts one gateway node with etcd and Redis backends. */
export async function startGateway(
  config: Config,
  log: Logger,
): Promise<GatewayProcess> {
  const backends = await connectClusterBackends(config, log);
  const { registry, history, metricsRegistry } = backends;
  const gateway = new GatewayNode({
    config,
    registry,
    history,
    log,
    metricsRegistry,
  });

  const app = createHealthRoutes({
    log,
    readyChecks: {
      // Probes come from anywhere, as often as anyone likes: each backend
      // is pinged at most once a second, concurrent probes share the ping.
      registry: cachedCall(() => registry.ping(), PING_CACHE_MS),
      history: cachedCall(() => history.ping(), PING_CACHE_MS),
      node: () => gateway.assertReady(),
    },
  });
  app.route(
    "/",
    createPublicRoutes({ allowedOrigins: config.allowedOrigins }),
  );
  const publicServer = await serve(
    config.host,
    config.port,
    createPublicHandler(gateway, app),
  );
  // One drain, whether SIGTERM or the internal API asks first. Drained
  // through the API, the process stays up (unregistered, not ready) until
  // it is stopped: a supervisor that restarts exited processes would
  // otherwise bring the node straight back.
  let draining: Promise<void> | undefined;
  const drain = (pace?: DrainPace) => draining ??= gateway.drain(pace);
  const internalApp = createInternalApp(gateway, {
    secrets: config.internalOtherSecret === undefined
      ? [config.internalSecret]
      : [config.internalSecret, config.internalOtherSecret],
    log,
    metrics: () => renderMetrics([metricsRegistry]),
    drain: (pace) => {
      drain(pace).catch((error) => log.error("drain failed", { error }));
    },
  });
  const internalServer = await serve(
    config.host,
    config.internalPort,
    internalApp.fetch,
  );

  const url = config.publicUrl ?? publicServer.url;
  // Bound to 0.0.0.0 (containers), the listen address is no use to routers.
  const internalUrl = config.internalUrl ?? internalServer.url;
  await joinWhenFree(gateway, { url, internalUrl }, config.leaseTtl, log);
  log.info("gateway listening", { url, internalUrl });

  const close = async () => {
    const late = () =>
      log.warn("server shutdown cut short: connections still open");
    await shutdownWithin(publicServer.server, undefined, late);
    await shutdownWithin(internalServer.server, undefined, late);
    await backends[Symbol.asyncDispose]();
  };
  let stopping: Promise<void> | undefined;
  return {
    node: gateway,
    url,
    internalUrl,
    shutdown: () =>
      stopping ??= (async () => {
        await drain();
        await close();
      })(),
    kill: () => stopping ??= close(),
  };
}

/**
 * Joins the registry. A node restarted right after a crash (same
 * `WSGW_NODE_ID`) finds its old record until the old lease expires: wait
 * that out, a little longer than the TTL, instead of exiting into a restart
 * loop. A node id held by a live node stays held, and start fails then.
 */
async function joinWhenFree(
  gateway: GatewayNode,
  urls: { url: string; internalUrl: string },
  leaseTtl: number,
  log: Logger,
): Promise<void> {
  const deadline = Date.now() + (leaseTtl + 2) * 1000;
  for (let attempt = 0;; attempt++) {
    try {
      return await gateway.start(urls);
    } catch (error) {
      if (!(error instanceof NodeIdTakenError) || Date.now() >= deadline) {
        throw error;
      }
      if (attempt === 0) {
        log.warn("node id still registered, waiting for its lease to expire", {
          leaseTtl,
        });
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

if (import.meta.main) {
  const { config, log } = configFromEnv("gateway");
  const gateway = await startGateway(config, log).catch((error) => {
    log.error("gateway failed to start", { error });
    Deno.exit(1);
  });
  exitOnSignals(() => gateway.shutdown(), log);
}
