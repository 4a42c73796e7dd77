/**
 * Redis history: one stream and one small hash per user (see
 * `redis_scripts.ts` for the layout), idempotency keys `<prefix>push:<id>`.
 * Commands fail fast while Redis is away, and the client reconnects by itself.
 *
 * @module
 */
import { deadline } from "../deadline.ts";
import { DeadlineWheel } from "../deadline_wheel.ts";
import { UnavailableError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type {
  Appended,
  History,
  HistoryOptions,
  HistoryRead,
  NewMessage,
  Reservation,
} from "./history.ts";
import {
  connectMasters,
  createScriptedClient,
  redact,
  type ScriptedClient,
} from "./_redis_client.ts";
import { isClusterUrl } from "./redis_url.ts";
import { appendEach } from "./_append_each.ts";
import {
  type AppendReply,
  describe,
  failure,
  type ReadReply,
  type ReserveReply,
  toEntry,
} from "./_redis_replies.ts";

/** Time an append gets beyond the call timeout for each user after the first. */
const APPEND_MS_PER_USER = 1;

/** Options of {@link RedisHistory.connect}. */
export type RedisHistoryOptions = HistoryOptions & {
  /**
   * `redis://[[user]:password@]host:port[/db]` (or `rediss://` for TLS), or
   * a Redis Cluster's seed nodes: `redis+cluster://[[user]:password@]host:port,…`
   * (`rediss+cluster://`).
   */
  url: string;
  /** PEM files for a `rediss://` URL: a private CA, a client certificate and key. */
  tls?: { ca?: Uint8Array; cert?: Uint8Array; key?: Uint8Array };
  log: Logger;
  /** Prepended to every key. @default "wsgw:" */
  keyPrefix?: string;
  /** Milliseconds one call (one command, or one pipeline) may take before it fails; an append to N users gets N-1 more. @default 2000 */
  commandTimeout?: number;
  /** Milliseconds {@link RedisHistory.connect} waits for Redis. @default 3000 */
  connectTimeout?: number;
};

/**
 * A {@link History} in Redis. Calls made in one event-loop turn, by one push
 * or many, go out as one pipeline (ioredis auto-pipelining; in a Redis
 * Cluster one pipeline per master); an append is one script call per user,
 * whose two keys share a hash slot, so a push to users on many slots needs no
 * cross-slot command.
 *
 * @example
 * ```ts
 * await using history = await RedisHistory.connect({
 *   url: "redis://127.0.0.1:6379", size: 1000, ttl: 86400, log,
 * });
 * const [seq] = await history.append(["alice"], { id, ts, dataJson });
 * ```
 */
export class RedisHistory implements History {
  readonly #client: ScriptedClient;
  readonly #prefix: string;
  readonly #size: string;
  readonly #ttlMs: string;
  readonly #reservationMs: string;
  /** "1" in a Redis Cluster: the scripts check which node wrote a history. */
  readonly #owner: "0" | "1";
  readonly #log: Logger;
  readonly #timeout: number;
  /** One timer for the deadlines of all calls in flight. */
  readonly #deadlines: DeadlineWheel;
  /** The Redis URL without credentials, for logs and errors. */
  readonly #where: string;
  /** Whether the connection is up, for logging its changes once each. */
  #state: "connecting" | "up" | "down" | "closing" = "connecting";
  #lastError: Error | undefined;

  private constructor(client: ScriptedClient, options: RedisHistoryOptions) {
    this.#client = client;
    this.#prefix = options.keyPrefix ?? "wsgw:";
    this.#size = String(options.size);
    this.#ttlMs = String(Math.round(options.ttl * 1000));
    this.#reservationMs = String(
      Math.round((options.reservationTtl ?? 30) * 1000),
    );
    this.#log = options.log;
    this.#timeout = options.commandTimeout ?? 2000;
    this.#deadlines = new DeadlineWheel(this.#timeout);
    this.#where = redact(options.url);
    this.#owner = isClusterUrl(options.url) ? "1" : "0";
  }

  /**
   * Connects to Redis and checks it answers.
   *
   * @throws {UnavailableError} when Redis cannot be reached within `connectTimeout`.
   */
  static async connect(options: RedisHistoryOptions): Promise<RedisHistory> {
    const connectTimeout = options.connectTimeout ?? 3000;
    const client = createScriptedClient(
      options.url,
      connectTimeout,
      options.tls,
    );
    const history = new RedisHistory(client, options);
    // Without an error listener ioredis prints every failed reconnect to
    // the console; the close that follows an error is what we log.
    // A cluster's own errors ("Failed to refresh slots cache") hide the
    // node's (WRONGPASS, a refused connection): keep that one.
    client.on(
      "error",
      (error: Error & { lastNodeError?: Error }) =>
        history.#lastError = error.lastNodeError ?? error,
    );
    client.on("close", () => history.#markDown());
    client.on("ready", () => history.#markUp());
    // A cluster stays ready while one node is lost: say which one went.
    client.on("-node", (node: { options: { host: string; port: number } }) => {
      if (history.#state !== "up") return;
      history.#log.warn("history cluster node gone", {
        backend: "redis",
        node: `${node.options.host}:${node.options.port}`,
      });
    });
    try {
      // A hung server accepts the TCP connection and then never answers.
      await deadline(client.connect(), connectTimeout, "connect");
      await deadline(client.ping(), connectTimeout, "ping");
      await connectMasters(client, connectTimeout);
    } catch (error) {
      client.disconnect();
      // "Connection is closed" hides why: the socket's own error says it
      // (WRONGPASS, NOAUTH, a certificate problem).
      const why = history.#lastError;
      throw new UnavailableError(
        `Redis at ${history.#where} is unreachable: ${describe(error)}${
          why && why !== error ? ` (${why.message})` : ""
        }`,
        { cause: error },
      );
    }
    return history;
  }

  async append(
    users: readonly string[],
    message: NewMessage,
  ): Promise<Appended[]> {
    if (users.length === 0) return [];
    // One fresh epoch serves every user of this call: it only has to differ
    // from the epoch each user had before its keys were lost.
    const epoch = crypto.randomUUID();
    const ts = String(message.ts);
    // Separate calls, not a pipeline of our own: auto-pipelining puts them
    // in the one pipeline of this turn, with the appends of other pushes.
    // Each settles on its own: in a cluster, one master down must not hide
    // that the others stored their users' copies.
    return await appendEach(
      users.length,
      (i) => {
        const [meta, stream] = this.#userKeys(users[i]!);
        return this.#client.wsgwAppend(
          meta,
          stream,
          epoch,
          this.#ttlMs,
          this.#size,
          message.id,
          ts,
          message.dataJson,
          message.device ?? "",
          message.dedupeKey ?? "",
          this.#owner,
        ) as Promise<AppendReply>;
      },
      // One user: the shared deadline timer. A push to thousands of users is
      // thousands of script calls: measured 0.2-0.4 ms each on a busy 2-core
      // box, so the per-call timeout alone refused pushes to
      // WSGW_MAX_PUSH_USERS users that Redis was storing.
      (all) =>
        users.length === 1
          ? this.#deadlines.bound(all, "history append")
          : deadline(
            all,
            this.#timeout + (users.length - 1) * APPEND_MS_PER_USER,
            "history append",
          ),
      (error) => this.#failure("append", error),
    );
  }

  async read(user: string, after: number, limit: number): Promise<HistoryRead> {
    const [meta, stream] = this.#userKeys(user);
    const first = Math.max(0, Math.floor(after) + 1);
    const [epoch, seq, entries] = await this.#run(
      "read",
      () =>
        this.#client.wsgwRead(
          meta,
          stream,
          crypto.randomUUID(),
          this.#ttlMs,
          String(first),
          String(Math.max(0, Math.floor(limit))),
          this.#owner,
        ),
    ) as ReadReply;
    return { epoch, seq: Number(seq), messages: entries.map(toEntry) };
  }

  async reserve(id: string): Promise<Reservation> {
    const reply = await this.#run(
      "reserve",
      () => this.#client.wsgwReserve(this.#pushKey(id), this.#reservationMs),
    ) as ReserveReply;
    if (reply[0] === 1) return { state: "reserved" };
    const value = reply[1];
    // The GET runs in the script that failed to SET, so null cannot happen.
    if (value === "" || value === null) return { state: "pending" };
    return { state: "done", answer: JSON.parse(value) };
  }

  async complete(id: string, answer: unknown): Promise<void> {
    // `undefined` has no JSON, and "" would read back as pending.
    const json = JSON.stringify(answer ?? null);
    await this.#run(
      "complete",
      () => this.#client.set(this.#pushKey(id), json, "PX", this.#ttlMs),
    );
  }

  async release(id: string): Promise<void> {
    await this.#run(
      "release",
      () => this.#client.wsgwRelease(this.#pushKey(id)),
    );
  }

  /**
   * One server: PING. A Redis Cluster: `CLUSTER INFO` of a node, which must
   * say the cluster is ok; while a slot has no master that answers (a master
   * down before its replica took over) some users' history is unavailable,
   * and the process is not ready.
   */
  async ping(): Promise<void> {
    if (this.#owner === "0") {
      await this.#run("ping", () => this.#client.ping());
      return;
    }
    const info = await this.#run(
      "ping",
      () => this.#client.cluster("INFO") as Promise<string>,
    );
    const state = /cluster_state:(\w+)/.exec(info)?.[1];
    if (state !== "ok") {
      throw new UnavailableError(
        `Redis Cluster at ${this.#where} is not serving every slot (cluster_state:${state})`,
      );
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    const client = this.#client;
    const status = client.status;
    this.#state = "closing";
    if (status === "end") return;
    if (status === "reconnecting") {
      // No socket to close: this only cancels the next attempt, and ioredis
      // emits no "end" for it.
      client.disconnect();
      return;
    }
    const ended = new Promise<void>((resolve) => client.once("end", resolve));
    if (status === "ready") {
      try {
        await deadline(client.quit(), this.#timeout, "history quit");
      } catch (error) {
        this.#log.debug("history quit failed", { backend: "redis", error });
        client.disconnect();
      }
    } else {
      client.disconnect();
    }
    await ended;
  }

  /** Both keys of a user; `encodeURIComponent` keeps `{` and `}` out of the hash tag. */
  #userKeys(user: string): [meta: string, stream: string] {
    const tag = `${this.#prefix}{${encodeURIComponent(user)}}`;
    return [`${tag}:meta`, `${tag}:stream`];
  }

  #pushKey(id: string): string {
    return `${this.#prefix}push:${id}`;
  }

  /**
   * Runs one Redis call within the command timeout, turning any failure into
   * an {@link UnavailableError}. A call that timed out may still run later.
   */
  async #run<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await this.#deadlines.bound(call(), `history ${what}`);
    } catch (error) {
      throw this.#failure(what, error);
    }
  }

  /** A failed call as an {@link UnavailableError} that says why. */
  #failure(what: string, error: unknown): UnavailableError {
    return failure(what, error, this.#client.status, this.#where);
  }

  #markDown(): void {
    if (this.#state !== "up") return;
    this.#state = "down";
    this.#log.warn("history backend down", {
      backend: "redis",
      where: this.#where,
      error: this.#lastError,
    });
  }

  #markUp(): void {
    const previous = this.#state;
    this.#state = "up";
    this.#lastError = undefined;
    if (previous === "down") {
      this.#log.info("history backend up", {
        backend: "redis",
        where: this.#where,
      });
    }
  }
}
