/**
 * The ioredis client as RedisHistory needs it: fail fast, never resend, keep
 * reconnecting, with our scripts defined as commands. Private to `history/`.
 *
 * @module
 */
import { Redis } from "ioredis";
import { APPEND, READ, RELEASE, RESERVE } from "./redis_scripts.ts";

/** The scripts as commands of the client. */
export type Scripts = {
  wsgwAppend(meta: string, stream: string, ...argv: string[]): Promise<unknown>;
  wsgwRead(meta: string, stream: string, ...argv: string[]): Promise<unknown>;
  wsgwReserve(key: string, ttlMs: string): Promise<unknown>;
  wsgwRelease(key: string): Promise<unknown>;
};

/** A client with {@link Scripts}. */
export type ScriptedClient = Redis & Scripts;

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
  const client = new Redis(url, {
    // rediss:// turns TLS on; these add a private CA or a client certificate.
    ...(tls && url.startsWith("rediss:")
      ? { tls: { ca: pem(tls.ca), cert: pem(tls.cert), key: pem(tls.key) } }
      : {}),
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
  }) as ScriptedClient;
  // EVALSHA, and EVAL when this connection has not seen the script yet or
  // Redis answers NOSCRIPT (ioredis tracks that per socket).
  client.defineCommand("wsgwAppend", { numberOfKeys: 2, lua: APPEND });
  client.defineCommand("wsgwRead", { numberOfKeys: 2, lua: READ });
  client.defineCommand("wsgwReserve", { numberOfKeys: 1, lua: RESERVE });
  client.defineCommand("wsgwRelease", { numberOfKeys: 1, lua: RELEASE });
  return client;
}

/** The URL without credentials, for logs and errors. */
export function redact(url: string): string {
  try {
    const { protocol, host, pathname } = new URL(url);
    return `${protocol}//${host}${pathname === "/" ? "" : pathname}`;
  } catch {
    return "(unparsable Redis URL)";
  }
}
