/**
 * The backends of a cluster process (gateway or router): the etcd registry,
 * the Redis history, and a metrics registry that already shows whether each
 * backend answers. Only `gateway/main.ts` and `router/main.ts` call this.
 *
 * @module
 */
import { createBackendMetrics } from "./backend_metrics.ts";
import type { Config } from "./config.ts";
import { RedisHistory } from "./history/redis.ts";
import type { Logger } from "./log.ts";
import { createMetricsRegistry, type prom } from "./metrics.ts";
import { EtcdRegistry } from "./registry/etcd.ts";

/** Connected backends; disposing closes both. */
export type ClusterBackends = AsyncDisposable & {
  registry: EtcdRegistry;
  history: RedisHistory;
  /** With default process metrics and the backends' health on it. */
  metricsRegistry: prom.Registry;
};

/** Connects to etcd and Redis as `config` says; throws when either is unreachable. */
export async function connectClusterBackends(
  config: Config,
  log: Logger,
): Promise<ClusterBackends> {
  const registry = await EtcdRegistry.connect({
    endpoints: [...config.etcd],
    prefix: config.etcdPrefix,
    leaseTtl: config.leaseTtl,
    log,
    recordSecrets: config.internalOtherSecret === undefined
      ? [config.internalSecret]
      : [config.internalSecret, config.internalOtherSecret],
  });
  const history = await RedisHistory.connect({
    url: config.redis!,
    size: config.historySize,
    ttl: config.historyTtl,
    log,
  }).catch(async (error) => {
    await registry[Symbol.asyncDispose]();
    throw error;
  });
  const metricsRegistry = createMetricsRegistry({ defaults: true });
  createBackendMetrics(metricsRegistry, {
    pings: { etcd: () => registry.ping(), redis: () => history.ping() },
    registryStats: registry.stats,
  });
  return {
    registry,
    history,
    metricsRegistry,
    async [Symbol.asyncDispose]() {
      await registry[Symbol.asyncDispose]();
      await history[Symbol.asyncDispose]();
    },
  };
}
