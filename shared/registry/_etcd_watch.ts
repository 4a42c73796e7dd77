/**
 * `EtcdRegistry.watch()`: a revision-consistent list-then-watch over the
 * registry prefix that lists again (a new `reset`) whenever the watch cannot
 * be trusted: compacted revision, stream error or end, or silence. Private to
 * `shared/registry/`.
 *
 * @module
 */
import type { IKeyValue, IWatchRequest, IWatchResponse } from "etcd3";
import type { NodeRecord, RegistryEvent } from "./registry.ts";
import { prefixEnd } from "./keys.ts";
import { backoff, bytes, type EtcdContext, sleep } from "./_etcd_client.ts";
import { listUsers } from "./_user_listing.ts";
import { OwnerMap, resetEvent } from "./owner_map.ts";

/** Options of {@link watchRegistry}. */
export type WatchOptions = {
  /** Keys per range request while listing (one response stays small). */
  pageSize: number;
  /** Range requests in flight at once while listing. */
  listConcurrency: number;
  /** Deadline of each of those requests, in ms. */
  listCallTimeout: number;
  /** Milliseconds of silence after which we ask etcd for progress. */
  progressInterval: number;
  /** Milliseconds to wait for that answer (or for the watch to be created). */
  progressTimeout: number;
  /** Events queued for a slow consumer before the stream is paused. */
  highWater: number;
};

type Listing = { revision: bigint; reset: RegistryEvent };
type Duplex = Awaited<
  ReturnType<EtcdContext["client"]["watchClient"]["watch"]>
>;
/** grpc-js streams are Node streams: they pause, which etcd feels as backpressure. */
type Pausable = Duplex & { pause(): void; resume(): void };

/** See the module doc; ends cleanly when `signal` aborts. */
export async function* watchRegistry(
  ctx: EtcdContext,
  options: WatchOptions,
  signal: AbortSignal,
): AsyncGenerator<RegistryEvent> {
  let attempt = 0;
  let listed = false;
  while (!signal.aborted) {
    let session: WatchSession | undefined;
    let started = Date.now();
    try {
      const { revision, reset } = await list(ctx, options);
      if (signal.aborted) return;
      if (listed) ctx.stats.watchRestarts++;
      listed = true;
      // The watch replays everything after the listing's revision, so nothing
      // is missed however long the consumer takes over a big reset; opening
      // the stream first only starts that catch-up sooner.
      session = new WatchSession(ctx, options, revision + 1n, signal);
      started = Date.now();
      yield reset;
      for (let event; (event = await session.next()) !== undefined;) {
        yield event;
      }
    } catch (error) {
      if (signal.aborted) return;
      // A watch that lived a while earned a quick retry; one that keeps
      // failing at once backs off, since every retry lists everything.
      if (Date.now() - started > options.progressInterval) attempt = 0;
      const fields = { attempt, error };
      if (attempt === 0) ctx.log.warn("registry watch restarting", fields);
      else ctx.log.debug("registry watch restarting", fields);
      await sleep(backoff(attempt++, 100, 2000), signal);
    } finally {
      session?.close();
    }
  }
}

/**
 * Everything under the prefix at one revision: the node records first (few,
 * with values; their answer fixes the revision), then every user key at
 * that revision (`_user_listing.ts`).
 */
async function list(ctx: EtcdContext, options: WatchOptions): Promise<Listing> {
  const { client, keys } = ctx;
  const answer = await client.kv.range({
    key: bytes(keys.nodesRoot),
    range_end: bytes(prefixEnd(keys.nodesRoot)),
  });
  const nodes: NodeRecord[] = [];
  for (const kv of answer.kvs) {
    const event = translate(ctx, "Put", kv);
    if (event?.type === "node") nodes.push(event.node);
  }
  const revision = Number(answer.header.revision);
  const owners = new OwnerMap();
  await listUsers(client, keys, revision, {
    pageSize: options.pageSize,
    concurrency: options.listConcurrency,
    callTimeout: options.listCallTimeout,
  }, (user, nodeId) => owners.add(user, nodeId));
  return { revision: BigInt(revision), reset: resetEvent(nodes, owners) };
}

/** One registry event for one etcd key change, or nothing for a foreign key. */
function translate(
  ctx: EtcdContext,
  type: "Put" | "Delete",
  kv: IKeyValue,
): RegistryEvent | undefined {
  const parsed = ctx.keys.parse(kv.key.toString());
  if (!parsed) return undefined;
  if (type === "Delete") {
    return parsed.kind === "node"
      ? { type: "node-gone", nodeId: parsed.nodeId }
      : { type: "user-gone", user: parsed.user, nodeId: parsed.nodeId };
  }
  if (parsed.kind === "user") {
    return { type: "user", user: parsed.user, nodeId: parsed.nodeId };
  }
  const node = ctx.records.decode(parsed.nodeId, kv.value.toString());
  // A record we cannot trust replaces whatever the key held before: the
  // node is gone for us until its owner restores a signed one.
  return node
    ? { type: "node", node }
    : { type: "node-gone", nodeId: parsed.nodeId };
}

/**
 * One watch stream from a revision on. Queues events in order; fails (and
 * so makes the caller list again) on cancel, compaction, stream error or
 * end, or when etcd does not answer a progress request in time.
 */
class WatchSession {
  readonly #ctx: EtcdContext;
  readonly #options: WatchOptions;
  readonly #signal: AbortSignal;
  readonly #queue: RegistryEvent[] = [];
  #stream: Pausable | undefined;
  #closed = false;
  #paused = false;
  #created = false;
  #failure: Error | undefined;
  #wake: (() => void) | undefined;
  #lastAnswer = Date.now();
  #progressAsked: number | undefined;
  readonly #timer: ReturnType<typeof setInterval>;
  readonly #onAbort = () => this.#notify();

  constructor(
    ctx: EtcdContext,
    options: WatchOptions,
    startRevision: bigint,
    signal: AbortSignal,
  ) {
    this.#ctx = ctx;
    this.#options = options;
    this.#signal = signal;
    signal.addEventListener("abort", this.#onAbort);
    const period = Math.min(options.progressInterval, options.progressTimeout);
    this.#timer = setInterval(() => this.#check(), Math.max(50, period / 4));
    void this.#open(startRevision);
  }

  /** The next event; `undefined` once `signal` aborts; throws when the watch is lost. */
  async next(): Promise<RegistryEvent | undefined> {
    while (true) {
      if (this.#signal.aborted) return undefined;
      const event = this.#queue.shift();
      if (event) {
        if (this.#paused && this.#queue.length <= this.#options.highWater / 2) {
          this.#paused = false;
          this.#lastAnswer = Date.now(); // paused silence is ours, not etcd's
          this.#stream?.resume();
        }
        return event;
      }
      if (this.#failure) throw this.#failure;
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#signal.removeEventListener("abort", this.#onAbort);
    this.#stream?.cancel();
  }

  async #open(startRevision: bigint): Promise<void> {
    let stream: Pausable;
    try {
      stream = await this.#ctx.client.watchClient.watch() as Pausable;
    } catch (error) {
      return this.#fail(
        new Error("cannot open a watch stream", { cause: error }),
      );
    }
    this.#stream = stream;
    stream.on("data", (answer: IWatchResponse) => this.#answer(answer));
    stream.on(
      "error",
      (error: Error) =>
        this.#fail(new Error("watch stream failed", { cause: error })),
    );
    stream.on("end", () => this.#fail(new Error("watch stream ended")));
    if (this.#closed) return stream.cancel();
    const root = this.#ctx.keys.root;
    this.#write({
      create_request: {
        key: bytes(root),
        range_end: bytes(prefixEnd(root)),
        start_revision: String(startRevision),
        progress_notify: true,
        // No `fragment`: etcd 3.4 splits a big revision (a revoked lease
        // deleting a node's 100k keys) in time quadratic in its events, and
        // the stream stalled for 94 s here. One big response is fine: the
        // client accepts up to 64 MB, and past that the watch errors and
        // lists again.
      },
    });
  }

  #answer(answer: IWatchResponse): void {
    if (this.#failure) return; // the caller lists again: later news is moot
    this.#lastAnswer = Date.now();
    this.#progressAsked = undefined;
    if (answer.canceled || answer.compact_revision !== "0") {
      const reason = answer.cancel_reason ||
        `revision compacted at ${answer.compact_revision}`;
      return this.#fail(new Error(`watch canceled: ${reason}`));
    }
    if (answer.created) {
      this.#created = true;
      return;
    }
    for (const change of answer.events) {
      const event = translate(this.#ctx, change.type, change.kv);
      if (event) this.#queue.push(event);
    }
    if (this.#queue.length >= this.#options.highWater && !this.#paused) {
      this.#paused = true;
      this.#stream?.pause();
    }
    this.#notify();
  }

  #check(): void {
    if (this.#paused || this.#failure) return;
    const now = Date.now();
    const { progressInterval, progressTimeout } = this.#options;
    if (!this.#created) {
      if (now - this.#lastAnswer > progressTimeout) {
        this.#fail(new Error(`watch not created within ${progressTimeout} ms`));
      }
    } else if (this.#progressAsked !== undefined) {
      if (now - this.#progressAsked > progressTimeout) {
        this.#fail(
          new Error(`no answer to a progress request in ${progressTimeout} ms`),
        );
      }
    } else if (now - this.#lastAnswer > progressInterval) {
      this.#progressAsked = now;
      this.#write({ progress_request: {} });
    }
  }

  #write(request: IWatchRequest): void {
    try {
      this.#stream?.write(request);
    } catch (error) {
      this.#fail(
        new Error("cannot write to the watch stream", { cause: error }),
      );
    }
  }

  #fail(error: Error): void {
    if (this.#closed || this.#failure) return;
    this.#failure = error;
    clearInterval(this.#timer);
    this.#notify();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
