/**
 * The etcd backend of the {@link Registry} seam, on npm `etcd3` (grpc-js).
 * Key layout: `./keys.ts`. Imported by composition roots only, so processes
 * on the memory registry never load grpc.
 *
 * @example
 * ```ts
 * await using registry = await EtcdRegistry.connect({
 *   endpoints: config.etcd, prefix: config.etcdPrefix,
 *   leaseTtl: config.leaseTtl, log,
 * });
 * await using membership = await registry.join(record);
 * await membership.register("alice");
 * ```
 *
 * @module
 */
import type { IRangeResponse } from "etcd3";
import type { Logger } from "../log.ts";
import { RangeBatcher } from "./_range_batcher.ts";
import type {
  NodeDevice,
  NodeRecord,
  Registry,
  RegistryEvent,
} from "./registry.ts";
import { decodeUserDevices, prefixEnd, RegistryKeys } from "./keys.ts";
import { NodeRecordCodec } from "./node_record_codec.ts";
import {
  backoff,
  bytes,
  createEtcdClient,
  type EtcdContext,
  type EtcdRegistryStats,
  type EtcdSecurity,
  isNoLeader,
  RegistryClosedError,
  RegistryUnavailableError,
  sleep,
  unavailable,
} from "./_etcd_client.ts";
import { EtcdMembership } from "./_etcd_membership.ts";
import { watchRegistry } from "./_etcd_watch.ts";

export {
  type EtcdRegistryStats,
  type EtcdSecurity,
  RegistryClosedError,
  RegistryRefusedError,
  RegistryUnavailableError,
} from "./_etcd_client.ts";
export { EtcdMembership, MAX_TXN_OPS } from "./_etcd_membership.ts";
export { NodeIdTakenError } from "./errors.ts";

/** Options of {@link EtcdRegistry.connect}. */
export type EtcdRegistryOptions = {
  /** Client URLs, e.g. `["http://127.0.0.1:2379"]`. */
  endpoints: string[];
  /** Key prefix, e.g. `/wsgw` (PROTOCOL.md "Registry layout in etcd"). */
  prefix: string;
  /** Seconds a node's keys outlive its last keep-alive. */
  leaseTtl: number;
  log: Logger;
  /**
   * Secrets node records are signed with (the first) and checked against
   * (all): the internal secret, then the other one during a rotation. A
   * record that does not check out is ignored with a warning. Empty or
   * absent: records are neither signed nor checked. @default []
   */
  recordSecrets?: readonly string[];
  /** TLS files and credentials for etcd. @default plain, no auth */
  security?: EtcdSecurity;
  /** Milliseconds `connect()` waits for a first answer. @default 5000 */
  connectTimeout?: number;
  /** Deadline of each unary call, in milliseconds. @default 5000 */
  callTimeout?: number;
  /** Deadline of `ping()`, in milliseconds. @default 2000 */
  pingTimeout?: number;
  /** Txns one membership keeps on the wire at once. @default 4 */
  maxInflightTxns?: number;
  /**
   * Keys per range request when `watch()` lists. A range with more keys is
   * not paged on (etcd 3.4 walks the rest of a range for every page: O(n²))
   * but cut into sub-ranges read in parallel, each walking only itself.
   * @default 50000
   */
  listPageSize?: number;
  /** Range requests in flight at once while listing. @default 4 */
  listConcurrency?: number;
  /** Milliseconds of watch silence before asking etcd for progress. @default 5000 */
  watchProgressInterval?: number;
  /** Milliseconds to wait for that answer before listing again. @default 3000 */
  watchProgressTimeout?: number;
  /** Events queued for a slow watch consumer before etcd is held back. @default 10000 */
  watchHighWater?: number;
};

/** A {@link Registry} kept in etcd; see the module doc. */
export class EtcdRegistry implements Registry {
  /** Counters shared by this registry's memberships and watches. */
  readonly stats: EtcdRegistryStats = {
    txns: 0,
    ops: 0,
    txnRetries: 0,
    leaseRegrants: 0,
    watchRestarts: 0,
  };
  readonly #ctx: EtcdContext;
  readonly #options: EtcdRegistryOptions;
  readonly #memberships = new Set<EtcdMembership>();
  readonly #closed = new AbortController();
  /** owners(), devices() and nodes() of one turn share one txn. */
  readonly #ranges: RangeBatcher;

  private constructor(options: EtcdRegistryOptions) {
    if (options.endpoints.length === 0) {
      throw new TypeError("EtcdRegistry needs at least one endpoint");
    }
    if (!Number.isInteger(options.leaseTtl) || options.leaseTtl < 1) {
      throw new TypeError(
        `leaseTtl must be a whole number of seconds >= 1, got ${options.leaseTtl}`,
      );
    }
    this.#options = options;
    this.#ctx = {
      client: createEtcdClient(
        options.endpoints,
        options.callTimeout ?? 5000,
        options.security,
      ),
      keys: new RegistryKeys(options.prefix),
      records: new NodeRecordCodec(options.recordSecrets ?? [], options.log),
      log: options.log,
      stats: this.stats,
    };
    this.#ranges = new RangeBatcher(this.#ctx.client);
  }

  /**
   * Connects and waits until etcd answers.
   *
   * @throws {RegistryUnavailableError} when etcd does not answer within
   * `connectTimeout`.
   */
  static async connect(options: EtcdRegistryOptions): Promise<EtcdRegistry> {
    const registry = new EtcdRegistry(options);
    const timeout = options.connectTimeout ?? 5000;
    const deadline = Date.now() + timeout;
    for (let attempt = 0;; attempt++) {
      try {
        await registry.ping();
        return registry;
      } catch (error) {
        const left = deadline - Date.now();
        if (left <= 0) {
          registry.#ctx.client.close();
          throw new RegistryUnavailableError(
            `etcd at ${
              options.endpoints.join(",")
            } did not answer within ${timeout} ms`,
            { cause: error },
          );
        }
        await sleep(Math.min(left, backoff(attempt, 100, 1000)));
      }
    }
  }

  async owners(user: string): Promise<string[]> {
    const root = this.#ctx.keys.userRoot(user);
    const answer = await this.#range("owners", root, true);
    return answer.kvs.flatMap((kv) => {
      const parsed = this.#ctx.keys.parse(kv.key.toString());
      return parsed?.kind === "user" ? [parsed.nodeId] : [];
    });
  }

  async devices(user: string): Promise<NodeDevice[]> {
    const root = this.#ctx.keys.userRoot(user);
    const answer = await this.#range("devices", root, false);
    return answer.kvs.flatMap((kv) => {
      const parsed = this.#ctx.keys.parse(kv.key.toString());
      if (parsed?.kind !== "user") return [];
      return decodeUserDevices(kv.value.toString()).map((device) => ({
        ...device,
        nodeId: parsed.nodeId,
      }));
    });
  }

  async nodes(): Promise<NodeRecord[]> {
    const answer = await this.#range("nodes", this.#ctx.keys.nodesRoot, false);
    return answer.kvs.flatMap((kv) => {
      const parsed = this.#ctx.keys.parse(kv.key.toString());
      const node = parsed?.kind === "node"
        ? this.#ctx.records.decode(parsed.nodeId, kv.value.toString())
        : undefined;
      return node ? [node] : [];
    });
  }

  watch(signal: AbortSignal): AsyncIterable<RegistryEvent> {
    const options = this.#options;
    // Closing the registry ends its watches too.
    const both = AbortSignal.any([signal, this.#closed.signal]);
    return watchRegistry(this.#ctx, {
      pageSize: options.listPageSize ?? 50_000,
      listConcurrency: options.listConcurrency ?? 4,
      // One page of 50k keys is ~3 MB: more than a unary call's usual time.
      listCallTimeout: Math.max(30_000, options.callTimeout ?? 5000),
      progressInterval: options.watchProgressInterval ?? 5000,
      progressTimeout: options.watchProgressTimeout ?? 3000,
      highWater: options.watchHighWater ?? 10000,
    }, both);
  }

  /**
   * Grants a lease, creates the node record on it and keeps it alive.
   *
   * @throws {NodeIdTakenError} when a live node holds `node.nodeId`.
   * @throws {RegistryUnavailableError} when etcd does not answer.
   */
  async join(node: NodeRecord): Promise<EtcdMembership> {
    if (this.#closed.signal.aborted) {
      throw new RegistryClosedError("the registry is closed");
    }
    const membership = await EtcdMembership.create(this.#ctx, node, {
      leaseTtl: this.#options.leaseTtl,
      maxInflightTxns: this.#options.maxInflightTxns ?? 4,
    });
    this.#memberships.add(membership);
    return membership;
  }

  /**
   * Reads one node key, requiring a leader. With etcd auth on, a status
   * call succeeds for any user, so only a read proves the registry can be
   * read; a member cut off from the quorum answers "no leader", and then the
   * other endpoints are asked (each call picks one at random), so one bad
   * member does not make a process with healthy ones in reach look unready.
   */
  async ping(): Promise<void> {
    const timeout = this.#options.pingTimeout ?? 2000;
    const deadline = Date.now() + timeout;
    const tries = 2 * this.#options.endpoints.length;
    for (let attempt = 1;; attempt++) {
      try {
        await this.#ctx.client.kv.range({
          key: bytes(this.#ctx.keys.nodesRoot),
          range_end: bytes(prefixEnd(this.#ctx.keys.nodesRoot)),
          limit: 1,
          keys_only: true,
        }, { deadline });
        return;
      } catch (error) {
        if (!isNoLeader(error) || attempt >= tries || Date.now() >= deadline) {
          unavailable("ping", error);
        }
      }
    }
  }

  /** Leaves every membership still joined, ends watches, closes the client. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#closed.signal.aborted) return;
    this.#closed.abort();
    await Promise.all([...this.#memberships].map((m) => m.leave()));
    this.#ctx.client.close();
  }

  async #range(
    what: string,
    prefix: string,
    keysOnly: boolean,
  ): Promise<IRangeResponse> {
    try {
      return await this.#ranges.range(prefix, keysOnly);
    } catch (error) {
      unavailable(what, error);
    }
  }
}
