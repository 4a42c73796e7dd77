/**
 * One node's presence in etcd: its record and user keys under one lease,
 * written by coalesced txns, rewritten under a new lease when the old one is
 * lost. Private to `shared/registry/`; {@link EtcdRegistry.join} creates it.
 *
 * @module
 */
import type { IRequestOp } from "etcd3";
import type { DeviceRef, NodeMembership, NodeRecord } from "./registry.ts";
import { encodeUserValue } from "./keys.ts";
import {
  backoff,
  bytes,
  type EtcdContext,
  isLeaseNotFound,
  isPermanent,
  RegistryClosedError,
  RegistryRefusedError,
  sleep,
  unavailable,
} from "./_etcd_client.ts";
import { NodeIdTakenError } from "./errors.ts";
import { grantLease, LeaseKeeper, revokeLease } from "./_etcd_lease.ts";
import {
  createNodeRecord,
  moveNodeRecord,
  nodePut,
} from "./_etcd_node_record.ts";
import { KeySync, type SyncOp } from "./_key_sync.ts";
import { NodeRecordGuard } from "./_etcd_record_guard.ts";

/** etcd's default `--max-txn-ops`: more ops in one txn are refused. */
export const MAX_TXN_OPS = 128;

/** How many times `maxInflightTxns` a rewrite after a lease loss may use. */
const REWRITE_INFLIGHT_FACTOR = 4;

/** Options of {@link EtcdMembership.create}. */
export type MembershipOptions = {
  /** Seconds. */
  leaseTtl: number;
  /** Txns one membership keeps on the wire at once. */
  maxInflightTxns: number;
};

/**
 * A {@link NodeMembership} in etcd. The desired set of users in memory is
 * the source of truth ({@link KeySync}); etcd is brought in line with it by
 * txns of at most {@link MAX_TXN_OPS} ops, so a burst of 10k registrations
 * costs ~80 txns. While etcd is unreachable calls wait and are retried with
 * backoff; they reject only once the node has left.
 */
export class EtcdMembership implements NodeMembership {
  readonly #ctx: EtcdContext;
  readonly #node: NodeRecord;
  readonly #options: MembershipOptions;
  readonly #sync = new KeySync();
  readonly #closed = new AbortController();
  #keeper: LeaseKeeper;
  /** Bumped on every lease change: answers to txns of an older lease are dropped. */
  #generation = 0;
  #state: "ready" | "regranting" | "left" = "ready";
  #txns = 0;
  #kicked = false;
  #retryAttempt = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #unreachableSince: number | undefined;
  /** Told when the keys are back after a lease loss. */
  readonly #restored = new Set<() => void>();
  /** Set from a lease loss until every user is rewritten on the new lease. */
  #lostAt: number | undefined;
  #staleLease: string | undefined;
  #leaving: Promise<void> | undefined;
  readonly #guard: NodeRecordGuard;

  private constructor(
    ctx: EtcdContext,
    node: NodeRecord,
    leaseId: string,
    options: MembershipOptions,
  ) {
    this.#ctx = ctx;
    this.#node = { ...node };
    this.#options = options;
    this.#keeper = this.#keep(leaseId);
    this.#guard = new NodeRecordGuard(ctx, {
      nodeId: node.nodeId,
      expected: () => ({
        value: ctx.records.encode(this.#node),
        leaseId: this.#keeper.leaseId,
      }),
      restore: () => void this.#kick(this.#sync.wantNode()).catch(() => {}),
      active: () => this.#state === "ready",
    });
    this.#guard.start();
  }

  /**
   * Grants a lease and creates the node record on it.
   *
   * @throws {NodeIdTakenError} when the node key exists.
   * @throws {RegistryUnavailableError} when etcd does not answer.
   */
  static async create(
    ctx: EtcdContext,
    node: NodeRecord,
    options: MembershipOptions,
  ): Promise<EtcdMembership> {
    let leaseId: string;
    try {
      leaseId = await grantLease(ctx, options.leaseTtl);
    } catch (error) {
      unavailable("lease grant", error);
    }
    let created: boolean;
    try {
      created = await createNodeRecord(ctx, node, leaseId);
    } catch (error) {
      await revokeLease(ctx, leaseId);
      unavailable("join", error);
    }
    if (!created) {
      await revokeLease(ctx, leaseId);
      throw new NodeIdTakenError(node.nodeId);
    }
    const membership = new EtcdMembership(ctx, node, leaseId, options);
    ctx.log.info("joined the registry", { nodeId: node.nodeId, leaseId });
    return membership;
  }

  get nodeId(): string {
    return this.#node.nodeId;
  }

  /** The lease the node's keys are attached to now. */
  get leaseId(): string {
    return this.#keeper.leaseId;
  }

  get healthy(): boolean {
    return this.#state === "ready" && this.#lostAt === undefined &&
      Date.now() - this.#keeper.lastAnswer <= this.#options.leaseTtl * 1000;
  }

  register(user: string, devices: readonly DeviceRef[] = []): Promise<void> {
    if (this.#state === "left") return this.#hasLeft();
    return this.#kick(this.#sync.want(user, true, devices));
  }

  unregister(user: string): Promise<void> {
    // After leave() the revoked lease took every key: nothing left to remove.
    if (this.#state === "left") return Promise.resolve();
    return this.#kick(this.#sync.want(user, false));
  }

  setDraining(draining: boolean): Promise<void> {
    if (this.#state === "left") return this.#hasLeft();
    this.#node.draining = draining;
    return this.#kick(this.#sync.wantNode());
  }

  leave(): Promise<void> {
    this.#leaving ??= this.#leave();
    return this.#leaving;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.leave();
  }

  #hasLeft(): Promise<never> {
    return Promise.reject(
      new RegistryClosedError(`node "${this.nodeId}" has left the registry`),
    );
  }

  /** Flushes once the current turn ends, so a same-tick burst shares txns. */
  #kick<T>(done: Promise<T>): Promise<T> {
    if (!this.#kicked) {
      this.#kicked = true;
      queueMicrotask(() => {
        this.#kicked = false;
        this.#pump();
      });
    }
    return done;
  }

  #pump(): void {
    if (this.#state !== "ready") return;
    if (this.#lostAt !== undefined && this.#sync.rewriting === 0) {
      this.#regranted();
    }
    if (this.#retryTimer !== undefined) return;
    // After a lease loss every user of the node is missing from etcd until
    // rewritten: more txns on the wire let etcd batch them into fewer
    // fsyncs (20k users: median 1.7 s with 4, 1.3 s with 16 on a busy box).
    const inflight = this.#lostAt === undefined
      ? this.#options.maxInflightTxns
      : this.#options.maxInflightTxns * REWRITE_INFLIGHT_FACTOR;
    while (this.#txns < inflight) {
      const ops = this.#sync.take(MAX_TXN_OPS);
      if (!ops) return;
      this.#txns++;
      void this.#send(ops);
    }
  }

  async #send(ops: SyncOp[]): Promise<void> {
    const { client, log, stats } = this.#ctx;
    const generation = this.#generation;
    try {
      await client.kv.txn({ success: this.#requestOps(ops) });
    } catch (error) {
      this.#txns--;
      this.#sync.requeue(ops);
      if (generation !== this.#generation) return; // the regrant rewrites them
      if (isLeaseNotFound(error)) {
        return this.#leaseLost("a txn found the lease gone");
      }
      if (isPermanent(error)) {
        log.error("registry txn refused", { nodeId: this.nodeId, error });
        const refused = new RegistryRefusedError("etcd refused the txn", {
          cause: error,
        });
        return this.#sync.refuse(ops, refused);
      }
      stats.txnRetries++;
      if (this.#unreachableSince === undefined) {
        this.#unreachableSince = Date.now();
        log.warn("registry unreachable", { nodeId: this.nodeId, error });
      }
      this.#retryTimer ??= setTimeout(() => {
        this.#retryTimer = undefined;
        this.#pump();
      }, backoff(this.#retryAttempt++));
      return;
    }
    this.#txns--;
    if (generation !== this.#generation) return this.#sync.requeue(ops);
    stats.txns++;
    stats.ops += ops.length;
    this.#retryAttempt = 0;
    if (this.#unreachableSince !== undefined) {
      const ms = Date.now() - this.#unreachableSince;
      this.#unreachableSince = undefined;
      log.info("registry reachable", { nodeId: this.nodeId, ms });
    }
    this.#sync.landed(ops);
    this.#pump();
  }

  #requestOps(ops: SyncOp[]): IRequestOp[] {
    const { keys } = this.#ctx;
    const leaseId = this.#keeper.leaseId;
    return ops.map((op) => {
      if ("node" in op) {
        return nodePut(this.#ctx, this.#node, leaseId);
      }
      const key = bytes(keys.user(op.user, this.nodeId));
      if (!op.put) return { request_delete_range: { key } };
      const desired = this.#sync.desired.get(op.user);
      const value = bytes(encodeUserValue({
        since: desired?.since ?? Date.now(),
        devices: desired?.devices ?? [],
      }));
      return { request_put: { key, value, lease: leaseId } };
    });
  }

  #keep(leaseId: string): LeaseKeeper {
    const keeper = new LeaseKeeper({
      client: this.#ctx.client,
      leaseId,
      ttl: this.#options.leaseTtl,
      log: this.#ctx.log,
      onLost: (reason) => this.#leaseLost(reason),
    });
    keeper.start();
    return keeper;
  }

  /** The lease may be gone: stop writing, take a new one, rewrite everything. */
  #leaseLost(reason: string): void {
    if (this.#state !== "ready") return;
    this.#state = "regranting";
    this.#generation++;
    this.#lostAt ??= Date.now();
    const oldLease = this.#keeper.leaseId;
    void this.#keeper.stop();
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#retryAttempt = 0;
    this.#ctx.log.warn("lease lost", {
      nodeId: this.nodeId,
      leaseId: oldLease,
      reason,
      users: this.#sync.desired.size,
    });
    this.#sync.forget();
    void this.#regrant(oldLease);
  }

  async #regrant(oldLease: string): Promise<void> {
    const { log } = this.#ctx;
    for (let attempt = 0; this.#state === "regranting"; attempt++) {
      let leaseId: string | undefined;
      try {
        leaseId = await grantLease(this.#ctx, this.#options.leaseTtl);
        if (this.#state === "regranting") {
          await moveNodeRecord(this.#ctx, this.#node, leaseId, oldLease);
        }
        if (this.#state !== "regranting") {
          return void revokeLease(this.#ctx, leaseId);
        }
      } catch (error) {
        if (leaseId !== undefined) void revokeLease(this.#ctx, leaseId);
        // One warning per loss; the retries of a long outage go to debug.
        const fields = { nodeId: this.nodeId, attempt, error };
        if (attempt === 0) log.warn("lease regrant failed", fields);
        else log.debug("lease regrant failed", fields);
        await sleep(backoff(attempt, 100, 2000), this.#closed.signal);
        continue;
      }
      this.#keeper = this.#keep(leaseId);
      if (this.#staleLease !== undefined) {
        void revokeLease(this.#ctx, this.#staleLease);
      }
      this.#staleLease = oldLease;
      this.#state = "ready";
      this.#pump(); // rewrites the users, then calls #regranted()
      return;
    }
  }

  onRestored(listener: () => void): () => void {
    this.#restored.add(listener);
    return () => this.#restored.delete(listener);
  }

  #regranted(): void {
    const ms = Date.now() - (this.#lostAt ?? Date.now());
    this.#lostAt = undefined;
    this.#ctx.stats.leaseRegrants++;
    this.#ctx.log.info("lease regranted", {
      nodeId: this.nodeId,
      leaseId: this.#keeper.leaseId,
      users: this.#sync.desired.size,
      ms,
    });
    // If the old lease was alive after all, it still holds keys of users who
    // left meanwhile: revoking it removes them.
    const stale = this.#staleLease;
    this.#staleLease = undefined;
    if (stale !== undefined) void revokeLease(this.#ctx, stale);
    for (const listener of this.#restored) {
      try {
        listener();
      } catch (error) {
        this.#ctx.log.error("restored listener failed", {
          nodeId: this.nodeId,
          error,
        });
      }
    }
  }

  async #leave(): Promise<void> {
    const users = this.#sync.desired.size;
    this.#state = "left";
    this.#generation++;
    this.#closed.abort();
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    await this.#guard.stop();
    await this.#keeper.stop();
    await revokeLease(this.#ctx, this.#keeper.leaseId);
    this.#sync.close(
      new RegistryClosedError(`node "${this.nodeId}" left the registry`),
    );
    this.#ctx.log.info("left the registry", { nodeId: this.nodeId, users });
  }
}
