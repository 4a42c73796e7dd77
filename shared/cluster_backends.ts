/**
 * The backends of a cluster process (gateway or router): the etcd registry,
 * the Redis history, and a metrics registry that already shows whether each
 * backend answers. Only `gateway/main.ts` and `router/main.ts` call this.
 *
 * @module
 */
import { createBackendMetrics } from "./backend_metrics.ts";
import type { Config, TlsFiles } from "./config.ts";
import { ConfigError } from "./errors.ts";
import { RedisHistory } from "./history/redis.ts";
import { isTlsUrl } from "./history/redis_url.ts";
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
    security: {
      ...await readTls(config.etcdTls, "WSGW_ETCD"),
      username: config.etcdUsername,
      password: config.etcdPassword,
    },
    recordSecrets: config.internalOtherSecret === undefined
      ? [config.internalSecret]
      : [config.internalSecret, config.internalOtherSecret],
  });
  const history = await RedisHistory.connect({
    url: config.redis!,
    tls: isTlsUrl(config.redis!)
      ? await readTls(config.redisTls, "WSGW_REDIS")
      : undefined,
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

/** Reads the PEM files `files` names; a missing one is a {@link ConfigError} naming its variable. */
async function readTls(
  files: TlsFiles,
  prefix: string,
): Promise<{ ca?: Uint8Array; cert?: Uint8Array; key?: Uint8Array }> {
  const read = async (part: "ca" | "cert" | "key") => {
    const path = files[part];
    if (path === undefined) return undefined;
    const name = `${prefix}_${part.toUpperCase()}`;
    try {
      return await Deno.readFile(path);
    } catch (error) {
      throw new ConfigError(
        name,
        `${name}: cannot read "${path}": ${(error as Error).message}`,
      );
    }
  };
  return {
    ca: await read("ca"),
    cert: await read("cert"),
    key: await read("key"),
  };
}
