/**
 * The ioredis client as RedisHistory needs it, for one server or a Redis
 * Cluster: fail fast, never resend, keep reconnecting, with our scripts
 * defined as commands. Private to `history/`.
 *
 * @module
 */
import { Cluster, Redis, type RedisOptions } from "ioredis";
import { deadline } from "../deadline.ts";
import { APPEND, READ, RELEASE, RESERVE } from "./redis_scripts.ts";
import {
  formatClusterUrl,
  isClusterUrl,
  isTlsUrl,
  parseClusterUrl,
  type RedisClusterUrl,
} from "./redis_url.ts";

/** The scripts as commands of the client. */
export type Scripts = {
  wsgwAppend(meta: string, stream: string, ...argv: string[]): Promise<unknown>;
  wsgwRead(meta: string, stream: string, ...argv: string[]): Promise<unknown>;
  wsgwReserve(key: string, ttlMs: string): Promise<unknown>;
  wsgwRelease(key: string): Promise<unknown>;
};

/** A client of one server or of a Redis Cluster, with {@link Scripts}. */
export type ScriptedClient = (Redis | Cluster) & Scripts;

/** Reconnect delay: quick first tries, then once a second. */
const retryDelay = (attempt: number): number =>
  Math.min(50 * 2 ** attempt, 1000);

/** A client that is not connected yet (`lazyConnect`): call `connect()`. */
export function createScriptedClient(
  url: string,
  connectTimeout: number,
  tls?: { ca?: Uint8Array; cert?: Uint8Array; key?: Uint8Array },
): ScriptedClient {
  const decoder = new TextDecoder();
  const pem = (bytes?: Uint8Array) => bytes && decoder.decode(bytes);
  // rediss:// turns TLS on; these add a private CA or a client certificate.
  const tlsOptions = tls && isTlsUrl(url)
    ? { tls: { ca: pem(tls.ca), cert: pem(tls.cert), key: pem(tls.key) } }
    : {};
  const options = {
    ...tlsOptions,
    lazyConnect: true,
    connectTimeout,
    // While Redis is away a command fails at once instead of queueing, and
    // one in flight when the connection drops fails with it: a push must see
    // an error, not hang. Never resend a command that may have run: an append
    // is not idempotent.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    retryStrategy: retryDelay,
    // How long a closing socket may wait for the server's FIN (a hung server
    // never sends it) before it is destroyed.
    disconnectTimeout: 1000,
    // Commands issued in one event-loop turn go out as one pipeline, and
    // while one is on the wire the next collects: at push rates the router
    // otherwise paid a socket write per command (reserve, append, complete).
    enableAutoPipelining: true,
    // No `commandTimeout`: it arms a timer per command, which took 150 ms of
    // a 10,000-user append here. RedisHistory puts one deadline on each call.
  };
  const client =
    (isClusterUrl(url)
      ? clusterClient(parseClusterUrl(url), options)
      : new Redis(url, options)) as ScriptedClient;
  // EVALSHA, and EVAL when this connection has not seen the script yet or
  // Redis answers NOSCRIPT (ioredis tracks that per socket).
  client.defineCommand("wsgwAppend", { numberOfKeys: 2, lua: APPEND });
  client.defineCommand("wsgwRead", { numberOfKeys: 2, lua: READ });
  client.defineCommand("wsgwReserve", { numberOfKeys: 1, lua: RESERVE });
  client.defineCommand("wsgwRelease", { numberOfKeys: 1, lua: RELEASE });
  return client;
}

/**
 * A Redis Cluster client: each call goes to the master of its key's slot,
 * and the calls of one event-loop turn go out as one pipeline per master.
 */
function clusterClient(
  url: RedisClusterUrl,
  options: RedisOptions & { enableAutoPipelining: boolean },
): Cluster {
  // The cluster sets its nodes' offline queue and reconnects itself.
  const {
    lazyConnect,
    enableAutoPipelining,
    enableOfflineQueue,
    retryStrategy: _,
    ...node
  } = options;
  return new Cluster(url.seeds, {
    lazyConnect,
    enableAutoPipelining,
    enableOfflineQueue,
    redisOptions: {
      ...node,
      ...(url.username === "" ? {} : { username: url.username }),
      ...(url.password === "" ? {} : { password: url.password }),
    },
    // Slot moves (MOVED, ASK) and a cluster between masters (TRYAGAIN,
    // CLUSTERDOWN) are answered before the command runs: those retries are
    // safe. A connection that closes with a command on it is not: the
    // command may have run, so it fails instead of being sent again.
    retryDelayOnFailover: 0,
    clusterRetryStrategy: retryDelay,
    slotsRefreshTimeout: options.connectTimeout,
    // Reads go to masters: the read script writes a user's first epoch.
    scaleReads: "master",
  });
}

/**
 * Connects a cluster client to every master that answers within `ms`; never
 * fails (a master down at start must not keep the process from starting).
 * ioredis would connect to each on the first command for it, and a command
 * for a node still connecting fails (no offline queue): a router's first push
 * after a master was lost, whose calls for that master's slots ioredis sends
 * to another master, failed the users of that other master too.
 */
export async function connectMasters(
  client: ScriptedClient,
  ms: number,
): Promise<void> {
  if (!(client instanceof Cluster)) return;
  const pings = client.nodes("master").map((node) => node.ping());
  await deadline(Promise.allSettled(pings), ms, "connect masters")
    .catch(() => {});
}

/** The URL without credentials, for logs and errors. */
export function redact(url: string): string {
  try {
    if (isClusterUrl(url)) {
      const parsed = parseClusterUrl(url);
      return formatClusterUrl(parsed, { username: "", password: "" });
    }
    const { protocol, host, pathname } = new URL(url);
    return `${protocol}//${host}${pathname === "/" ? "" : pathname}`;
  } catch {
    return "(unparsable Redis URL)";
  }
}
