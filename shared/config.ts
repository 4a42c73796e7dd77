/**
 * Configuration from the environment (README.md "Configuration"). Only entry
 * points read `Deno.env`; everything else receives the frozen {@link Config}.
 *
 * @module
 */
import type { ApiKey } from "./api_key_scopes.ts";
import { ConfigError } from "./errors.ts";
import type { TokenConfig } from "./token_config.ts";
import { checkUrl, loadBackends, type TlsFiles } from "./config_backends.ts";
import { internalSecrets, loadSecrets } from "./config_secrets.ts";
import {
  type Env,
  envInt as int,
  envList as list,
  envString as str,
} from "./env_reader.ts";
import {
  DEFAULT_INTERNAL_NETWORKS,
  InternalUrlPolicy,
} from "./internal_url_policy.ts";

export type { TlsFiles };
export {
  DEV_API_KEY,
  DEV_JWT_SECRET,
  MIN_API_KEY_LENGTH,
  MIN_SECRET_LENGTH,
} from "./config_secrets.ts";

/** Which process is being configured; decides which variables are required. */
export type Mode = "embedded" | "gateway" | "router";

/** Validated, frozen configuration of one process. */
export type Config = {
  readonly mode: Mode;
  /** etcd endpoints, without credentials; empty in embedded mode. */
  readonly etcd: readonly string[];
  /** etcd user (`WSGW_ETCD_USERNAME`, or the user part of `WSGW_ETCD`). */
  readonly etcdUsername: string | undefined;
  /** Its password (`WSGW_ETCD_PASSWORD`, or from `WSGW_ETCD`). */
  readonly etcdPassword: string | undefined;
  /** PEM files: CA to trust, client certificate and key (`WSGW_ETCD_CA`, `_CERT`, `_KEY`). */
  readonly etcdTls: TlsFiles;
  /** PEM files for a `rediss://` Redis (`WSGW_REDIS_CA`, `_CERT`, `_KEY`). */
  readonly redisTls: TlsFiles;
  /** @default "/wsgw" */
  readonly etcdPrefix: string;
  /** Redis URL (`redis+cluster://` for a Redis Cluster); undefined in embedded mode. */
  readonly redis: string | undefined;
  /** Push-API keys with their scopes (`key[:push|broadcast|admin]`). */
  readonly apiKeys: readonly ApiKey[];
  /** HS256 secret client tokens are signed with; undefined when only public keys are used. */
  readonly jwtSecret: string | undefined;
  /** Secret of the previous rollover, still accepted while clients refresh. */
  readonly jwtPreviousSecret: string | undefined;
  /** PEM public keys (RS256, ES256, EdDSA) from `WSGW_JWT_PUBLIC_KEY`. */
  readonly jwtPublicKeys: TokenConfig["jwtPublicKeys"];
  /** JWKS URL the verification keys are fetched from. */
  readonly jwtJwksUrl: string | undefined;
  /** Milliseconds a fetched key set is used before it is fetched again. @default 600000 */
  readonly jwtJwksMaxAgeMs: number;
  /** Milliseconds after a fetch before a token with an unknown `kid` fetches again. @default 30000 */
  readonly jwtJwksCooldownMs: number;
  /** Required `aud` of client tokens, when set. */
  readonly jwtAudience: string | undefined;
  /** Required `iss` of client tokens, when set. */
  readonly jwtIssuer: string | undefined;
  /** Seconds of clock skew tolerated on `exp` and `nbf`. @default 5 */
  readonly jwtClockSkew: number;
  /** Browser origins allowed to open sockets; empty allows any. */
  readonly allowedOrigins: readonly string[];
  /** New sockets per second from one client address (burst: twice that); 0 is no limit. @default 50 */
  readonly connectRate: number;
  /**
   * New sockets per second one gateway accepts from everyone together
   * (burst: twice that); over it, 503 with `Retry-After`. 0 is no limit.
   * @default 0
   */
  readonly connectBudget: number;
  /** Most users one push may name. @default 10000 */
  readonly maxPushUsers: number;
  /** Most bytes of data times users in one push. @default 16777216 */
  readonly maxPushBytes: number;
  /** Push-API requests per second per key and router (burst: twice that); 0 is no limit. @default 1000 */
  readonly keyRequestRate: number;
  /** Bytes (data × users) per second per key and router (burst: twice that); 0 is no limit. @default 16777216 */
  readonly keyByteRate: number;
  /** Internal requests a router queues per node beyond 256 in flight; more fail at once. @default 10000 */
  readonly maxPendingForwards: number;
  /** Bytes queued on all sockets of a node before the slowest are closed. @default 268435456 */
  readonly nodeSendBufferBytes: number;
  /** Secret shared by routers and gateway nodes for the internal API. */
  readonly internalSecret: string;
  /** A second internal secret gateways also accept, for rotating it without downtime. */
  readonly internalOtherSecret: string | undefined;
  /** Where the internal secret may be sent (`shared/internal_url_policy.ts`). @default ["private"] */
  readonly internalNetworks: readonly string[];
  /** {@link internalNetworks} parsed, once for the process: every caller of a node's internal URL checks it here. */
  readonly internalUrlPolicy: InternalUrlPolicy;
  readonly nodeId: string;
  /** @default 10 */
  readonly maxDevices: number;
  /** Seconds. @default 10 */
  readonly leaseTtl: number;
  /**
   * Milliseconds a draining gateway answers 503 on `/readyz` before it closes
   * its first client, so a balancer polling `/readyz` takes it out first and
   * the reconnects go to other nodes. @default 0
   */
  readonly drainNoticeMs: number;
  /** Largest client frame and largest `data` of a push, in bytes. @default 65536 */
  readonly maxMessageBytes: number;
  /** Largest push API request body, in bytes. @default 4194304 */
  readonly maxBodyBytes: number;
  /** Messages kept per user. @default 1000 */
  readonly historySize: number;
  /** Seconds a user's history (and a push id) is kept. @default 86400 */
  readonly historyTtl: number;
  /** Bytes queued on one socket before it is closed as a slow consumer. @default 1048576 */
  readonly sendBufferBytes: number;
  /** Client frames per second per connection (burst: twice that). @default 20 */
  readonly inboundRate: number;
  /** Public port (`/ws`, and the push API in embedded/router mode). @default 8080 */
  readonly port: number;
  /** Port of the node-internal API; 0 picks a free one. @default 0 */
  readonly internalPort: number;
  /** Host the servers bind to. @default "127.0.0.1" */
  readonly host: string;
  /** URL clients use to reach this node, as advertised in the registry. */
  readonly publicUrl: string | undefined;
  /** URL routers use to reach this node's internal API, as advertised in the registry. */
  readonly internalUrl: string | undefined;
  /** @default "info" */
  readonly logLevel: "debug" | "info" | "warn" | "error";
};

/**
 * The most users one push may name: the ceiling and the default of
 * `WSGW_MAX_PUSH_USERS`, and the bound of the push schema.
 */
export const MAX_PUSH_USERS = 10_000;

/** The result of {@link loadConfig}: the config and warnings to print loudly. */
export type LoadedConfig = { config: Config; warnings: string[] };

/**
 * Validates the environment for one process.
 *
 * @throws {ConfigError} naming the variable that is missing or malformed.
 * @example
 * ```ts
 * const { config, warnings } = loadConfig(Deno.env.toObject(), "gateway");
 * ```
 */
export function loadConfig(env: Env, mode: Mode): LoadedConfig {
  const warnings: string[] = [];
  const { etcd, etcdUsername, etcdPassword, etcdTls, redis, redisTls } =
    loadBackends((name) => str(env, name), mode);

  const { apiKeys, tokens } = loadSecrets(env, mode, warnings);
  const allowedOrigins = list(env, "WSGW_ALLOWED_ORIGINS");
  for (const origin of allowedOrigins) {
    if (!URL.canParse(origin) || new URL(origin).origin !== origin) {
      throw new ConfigError(
        "WSGW_ALLOWED_ORIGINS",
        `WSGW_ALLOWED_ORIGINS must list origins like https://app.example.com (scheme, host, optional port), got "${
          origin.slice(0, 100)
        }"`,
      );
    }
  }
  const { internalSecret, internalOtherSecret } = internalSecrets(env, mode);
  const internalNetworks = list(env, "WSGW_INTERNAL_NETWORKS");
  if (internalNetworks.length === 0) {
    internalNetworks.push(...DEFAULT_INTERNAL_NETWORKS);
  }
  let internalUrlPolicy: InternalUrlPolicy;
  try {
    internalUrlPolicy = new InternalUrlPolicy(internalNetworks);
  } catch (error) {
    throw new ConfigError(
      "WSGW_INTERNAL_NETWORKS",
      `WSGW_INTERNAL_NETWORKS: ${(error as Error).message}`,
    );
  }

  const prefix = str(env, "WSGW_ETCD_PREFIX") ?? "/wsgw";
  if (!prefix.startsWith("/") || prefix.endsWith("/")) {
    throw new ConfigError(
      "WSGW_ETCD_PREFIX",
      `WSGW_ETCD_PREFIX must start with "/" and not end with one, got "${prefix}"`,
    );
  }
  const nodeId = str(env, "WSGW_NODE_ID") ??
    `node-${crypto.randomUUID().slice(0, 8)}`;
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(nodeId)) {
    throw new ConfigError(
      "WSGW_NODE_ID",
      `WSGW_NODE_ID must be 1-64 characters of [A-Za-z0-9._-], got "${nodeId}"`,
    );
  }
  const logLevel = str(env, "WSGW_LOG_LEVEL") ?? "info";
  if (!["debug", "info", "warn", "error"].includes(logLevel)) {
    throw new ConfigError(
      "WSGW_LOG_LEVEL",
      `WSGW_LOG_LEVEL must be one of debug, info, warn, error, got "${logLevel}"`,
    );
  }
  const publicUrl = str(env, "WSGW_PUBLIC_URL");
  if (publicUrl !== undefined) checkUrl("WSGW_PUBLIC_URL", publicUrl);
  const internalUrl = str(env, "WSGW_INTERNAL_URL");
  if (internalUrl !== undefined) checkUrl("WSGW_INTERNAL_URL", internalUrl);

  const config: Config = {
    mode,
    etcd,
    etcdUsername,
    etcdPassword,
    etcdTls,
    redisTls,
    etcdPrefix: prefix,
    redis,
    apiKeys,
    ...tokens,
    jwtAudience: str(env, "WSGW_JWT_AUDIENCE"),
    jwtIssuer: str(env, "WSGW_JWT_ISSUER"),
    jwtClockSkew: int(env, "WSGW_JWT_CLOCK_SKEW", 5, 0, 300),
    allowedOrigins,
    connectRate: int(env, "WSGW_CONNECT_RATE", 50, 0),
    connectBudget: int(env, "WSGW_CONNECT_BUDGET", 0, 0),
    maxPushUsers: int(
      env,
      "WSGW_MAX_PUSH_USERS",
      MAX_PUSH_USERS,
      1,
      MAX_PUSH_USERS,
    ),
    maxPushBytes: int(env, "WSGW_MAX_PUSH_BYTES", 16 * 1024 * 1024, 1024),
    keyRequestRate: int(env, "WSGW_KEY_REQUEST_RATE", 1000, 0),
    keyByteRate: int(env, "WSGW_KEY_BYTE_RATE", 16 * 1024 * 1024, 0),
    maxPendingForwards: int(env, "WSGW_MAX_PENDING_FORWARDS", 10000, 1),
    nodeSendBufferBytes: int(
      env,
      "WSGW_NODE_SEND_BUFFER_BYTES",
      256 * 1024 * 1024,
      1024 * 1024,
    ),
    internalSecret,
    internalOtherSecret,
    internalNetworks,
    internalUrlPolicy,
    nodeId,
    maxDevices: int(env, "WSGW_MAX_DEVICES", 10, 1),
    leaseTtl: int(env, "WSGW_LEASE_TTL", 10, 2),
    drainNoticeMs: int(env, "WSGW_DRAIN_NOTICE_MS", 0, 0, 600_000),
    maxMessageBytes: int(env, "WSGW_MAX_MESSAGE_BYTES", 65536, 64),
    maxBodyBytes: int(env, "WSGW_MAX_BODY_BYTES", 4 * 1024 * 1024, 1024),
    historySize: int(env, "WSGW_HISTORY_SIZE", 1000, 1),
    historyTtl: int(env, "WSGW_HISTORY_TTL", 86400, 1),
    sendBufferBytes: int(env, "WSGW_SEND_BUFFER_BYTES", 1024 * 1024, 1024),
    inboundRate: int(env, "WSGW_INBOUND_RATE", 20, 1),
    port: int(env, "PORT", 8080, 0, 65535),
    internalPort: int(env, "WSGW_INTERNAL_PORT", 0, 0, 65535),
    host: str(env, "WSGW_HOST") ?? "127.0.0.1",
    publicUrl,
    internalUrl,
    logLevel: logLevel as Config["logLevel"],
  };
  if (config.keyByteRate > 0 && 2 * config.keyByteRate < config.maxPushBytes) {
    throw new ConfigError(
      "WSGW_KEY_BYTE_RATE",
      `WSGW_KEY_BYTE_RATE (burst: twice it) must allow one push of WSGW_MAX_PUSH_BYTES (${config.maxPushBytes}): set it to at least ${
        Math.ceil(config.maxPushBytes / 2)
      }`,
    );
  }
  return { config: Object.freeze(config), warnings };
}
