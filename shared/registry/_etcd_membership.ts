/**
 * One node's presence in etcd: its record and user keys under one lease,
 * written by coalesced txns, rewritten under a new lease when the old one is
 * lost. Private to `shared/registry/`; {@link EtcdRegistry.join} creates it.
 *
 * @module
 */
import { CompareResult, CompareTarget, type IRequestOp } from "etcd3";
import type { NodeMembership, NodeRecord } from "./registry.ts";
import { encodeNodeValue, encodeUserValue } from "./keys.ts";
import {
  backoff,
  bytes,
  type EtcdContext,
  isLeaseNotFound,
  isPermanent,
  NodeIdTakenError,
  RegistryClosedError,
  sleep,
  unavailable,
} from "./_etcd_client.ts";
import { LeaseKeeper } from "./_etcd_lease.ts";

/** etcd's default `--max-txn-ops`: more ops in one txn are refused. */
export const MAX_TXN_OPS = 128;

/** Options of {@link EtcdMembership.create}. */
export type MembershipOptions = {
  /** Seconds. */
  leaseTtl: number;
  /** Txns one membership keeps on the wire at once. */
  maxInflightTxns: number;
};

type Waiter = { resolve: () => void; reject: (error: Error) => void };
/** One op of a txn: the node record, or one user's key (put or delete). */
type Op = { node: true } | { user: string; put: boolean };

/**
 * A {@link NodeMembership} in etcd. The desired set of users in memory is
 * the source of truth; etcd is brought in line with it by txns of at most
 * {@link MAX_TXN_OPS} ops, so a burst of 10k registrations costs ~80 txns.
 * While etcd is unreachable calls wait and are retried with backoff; they
 * reject only once the node has left.
 */
export class EtcdMembership implements NodeMembership {
  readonly #ctx: EtcdContext;
  readonly #node: NodeRecord;
  readonly #options: MembershipOptions;
  readonly #closed = new AbortController();
  #keeper: LeaseKeeper;
  /** Bumped on every lease change: answers to txns of an older lease are dropped. */
  #generation = 0;
  #state: "ready" | "regranting" | "left" = "ready";
  /** user → ms it was registered: what etcd should hold. */
  readonly #desired = new Map<string, number>();
  /** Users whose key etcd holds under the current lease. */
  readonly #persisted = new Set<string>();
  /** Users whose desired and persisted state may differ. */
  readonly #dirty = new Set<string>();
  /** Users in a txn on the wire (never in two at once). */
  readonly #inflight = new Set<string>();
  readonly #waiters = new Map<string, Waiter[]>();
  #nodeDirty = false;
  #nodeInflight = false;
  #nodeWaiters: Waiter[] = [];
  #txns = 0;
  #kicked = false;
  #retryAttempt = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #unreachableSince: number | undefined;
  /** After a regrant: users not yet rewritten; healthy again once empty. */
  #rewriting: Set<string> | undefined;
  #lostAt = 0;
  #staleLease: string | undefined;
  #leaving: Promise<void> | undefined;

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
    const key = bytes(ctx.keys.node(node.nodeId));
    let leaseId: string;
    try {
      leaseId = (await ctx.client.leaseClient.leaseGrant({
        TTL: options.leaseTtl,
      })).ID;
    } catch (error) {
      unavailable("lease grant", error);
    }
    let created: boolean;
    try {
      created = (await ctx.client.kv.txn({
        compare: [{
          key,
          target: CompareTarget.Create,
          result: CompareResult.Equal,
          create_revision: 0,
        }],
        success: [nodePut(key, node, leaseId)],
      })).succeeded;
    } catch (error) {
      await revoke(ctx, leaseId);
      unavailable("join", error);
    }
    if (!created) {
      await revoke(ctx, leaseId);
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
    return this.#state === "ready" && this.#rewriting === undefined &&
      Date.now() - this.#keeper.lastAnswer <= this.#options.leaseTtl * 1000;
  }

  register(user: string): Promise<void> {
    if (this.#state === "left") {
      return Promise.reject(
        new RegistryClosedError(`node "${this.nodeId}" has left the registry`),
      );
    }
    if (!this.#desired.has(user)) this.#desired.set(user, Date.now());
    return this.#track(user);
  }

  unregister(user: string): Promise<void> {
    // After leave() the revoked lease took every key: nothing left to remove.
    if (this.#state === "left") return Promise.resolve();
    this.#desired.delete(user);
    return this.#track(user);
  }

  setDraining(draining: boolean): Promise<void> {
    if (this.#state === "left") {
      return Promise.reject(
        new RegistryClosedError(`node "${this.nodeId}" has left the registry`),
      );
    }
    this.#node.draining = draining;
    this.#nodeDirty = true;
    const done = new Promise<void>((resolve, reject) =>
      this.#nodeWaiters.push({ resolve, reject })
    );
    this.#kick();
    return done;
  }

  leave(): Promise<void> {
    this.#leaving ??= this.#leave();
    return this.#leaving;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.leave();
  }

  /** Resolves `user`'s call once etcd matches the desired state for it. */
  #track(user: string): Promise<void> {
    if (this.#converged(user)) {
      this.#settle(user);
      return Promise.resolve();
    }
    this.#dirty.add(user);
    const done = new Promise<void>((resolve, reject) => {
      const waiters = this.#waiters.get(user);
      if (waiters) waiters.push({ resolve, reject });
      else this.#waiters.set(user, [{ resolve, reject }]);
    });
    this.#kick();
    return done;
  }

  #converged(user: string): boolean {
    return !this.#inflight.has(user) &&
      this.#desired.has(user) === this.#persisted.has(user);
  }

  #settle(user: string): void {
    this.#dirty.delete(user);
    const waiters = this.#waiters.get(user);
    if (waiters) {
      this.#waiters.delete(user);
      for (const waiter of waiters) waiter.resolve();
    }
    if (this.#rewriting?.delete(user) && this.#rewriting.size === 0) {
      this.#regranted();
    }
  }

  /** Flushes once the current turn ends, so a same-tick burst shares txns. */
  #kick(): void {
    if (this.#kicked) return;
    this.#kicked = true;
    queueMicrotask(() => {
      this.#kicked = false;
      this.#pump();
    });
  }

  #pump(): void {
    if (this.#state !== "ready" || this.#retryTimer !== undefined) return;
    while (this.#txns < this.#options.maxInflightTxns) {
      const ops = this.#takeBatch();
      if (!ops) return;
      this.#txns++;
      void this.#send(ops);
    }
  }

  #takeBatch(): Op[] | undefined {
    const ops: Op[] = [];
    if (this.#nodeDirty && !this.#nodeInflight) {
      this.#nodeDirty = false;
      this.#nodeInflight = true;
      ops.push({ node: true });
    }
    for (const user of this.#dirty) {
      if (ops.length >= MAX_TXN_OPS) break;
      if (this.#inflight.has(user)) continue;
      const put = this.#desired.has(user);
      if (put === this.#persisted.has(user)) {
        this.#settle(user);
        continue;
      }
      this.#dirty.delete(user);
      this.#inflight.add(user);
      ops.push({ user, put });
    }
    return ops.length > 0 ? ops : undefined;
  }

  async #send(ops: Op[]): Promise<void> {
    const { client, keys, log, stats } = this.#ctx;
    const generation = this.#generation;
    const leaseId = this.#keeper.leaseId;
    const success: IRequestOp[] = ops.map((op) => {
      if ("node" in op) {
        return nodePut(bytes(keys.node(this.nodeId)), this.#node, leaseId);
      }
      const key = bytes(keys.user(op.user, this.nodeId));
      if (!op.put) return { request_delete_range: { key } };
      const since = this.#desired.get(op.user) ?? Date.now();
      const value = bytes(encodeUserValue({ since }));
      return { request_put: { key, value, lease: leaseId } };
    });
    try {
      await client.kv.txn({ success });
    } catch (error) {
      this.#txns--;
      this.#requeue(ops);
      if (generation !== this.#generation) return; // the regrant rewrites them
      if (isLeaseNotFound(error)) {
        return this.#leaseLost("a txn found the lease gone");
      }
      if (isPermanent(error)) return this.#fail(ops, error);
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
    if (generation !== this.#generation) return this.#requeue(ops);
    stats.txns++;
    stats.ops += ops.length;
    this.#retryAttempt = 0;
    if (this.#unreachableSince !== undefined) {
      const ms = Date.now() - this.#unreachableSince;
      this.#unreachableSince = undefined;
      log.info("registry reachable", { nodeId: this.nodeId, ms });
    }
    for (const op of ops) {
      if ("node" in op) {
        this.#nodeInflight = false;
        if (!this.#nodeDirty) {
          const waiters = this.#nodeWaiters;
          this.#nodeWaiters = [];
          for (const waiter of waiters) waiter.resolve();
        }
        continue;
      }
      if (op.put) this.#persisted.add(op.user);
      else this.#persisted.delete(op.user);
      this.#inflight.delete(op.user);
      if (this.#converged(op.user)) this.#settle(op.user);
      else this.#dirty.add(op.user);
    }
    this.#pump();
  }

  /** Puts the ops of a txn that did not land back in the queue. */
  #requeue(ops: Op[]): void {
    for (const op of ops) {
      if ("node" in op) {
        this.#nodeInflight = false;
        this.#nodeDirty = true;
      } else {
        this.#inflight.delete(op.user);
        this.#dirty.add(op.user);
      }
    }
  }

  /** A txn etcd will never accept: tell the callers instead of looping. */
  #fail(ops: Op[], error: unknown): void {
    this.#ctx.log.error("registry txn refused", {
      nodeId: this.nodeId,
      ops: ops.length,
      error,
    });
    const cause = new RegistryClosedError("etcd refused the txn", {
      cause: error,
    });
    for (const op of ops) {
      if ("node" in op) {
        this.#nodeDirty = false;
        for (const waiter of this.#nodeWaiters.splice(0)) waiter.reject(cause);
        continue;
      }
      this.#dirty.delete(op.user);
      for (const waiter of this.#waiters.get(op.user) ?? []) {
        waiter.reject(cause);
      }
      this.#waiters.delete(op.user);
    }
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
    this.#lostAt = Date.now();
    const oldLease = this.#keeper.leaseId;
    void this.#keeper.stop();
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#retryAttempt = 0;
    this.#ctx.log.warn("lease lost", {
      nodeId: this.nodeId,
      leaseId: oldLease,
      reason,
      users: this.#desired.size,
    });
    this.#persisted.clear();
    for (const user of this.#desired.keys()) this.#dirty.add(user);
    void this.#regrant(oldLease);
  }

  async #regrant(oldLease: string): Promise<void> {
    const { client, log } = this.#ctx;
    for (let attempt = 0; this.#state === "regranting"; attempt++) {
      let leaseId: string | undefined;
      try {
        leaseId = (await client.leaseClient.leaseGrant({
          TTL: this.#options.leaseTtl,
        })).ID;
        if (this.#state === "regranting") {
          await this.#putNodeRecord(leaseId, oldLease);
        }
        if (this.#state !== "regranting") {
          return void revoke(this.#ctx, leaseId);
        }
      } catch (error) {
        if (leaseId !== undefined) void revoke(this.#ctx, leaseId);
        // One warning per loss; the retries of a long outage go to debug.
        const fields = { nodeId: this.nodeId, attempt, error };
        if (attempt === 0) log.warn("lease regrant failed", fields);
        else log.debug("lease regrant failed", fields);
        await sleep(backoff(attempt, 100, 2000), this.#closed.signal);
        continue;
      }
      this.#keeper = this.#keep(leaseId);
      this.#staleLease = oldLease;
      this.#rewriting = new Set(this.#desired.keys());
      this.#state = "ready";
      if (this.#rewriting.size === 0) this.#regranted();
      this.#pump();
      return;
    }
  }

  /**
   * Creates the node record on the new lease, or moves it there when it still
   * sits on our old lease (the lease was alive after all); refuses to take a
   * record another process created in the meantime.
   */
  async #putNodeRecord(leaseId: string, oldLease: string): Promise<void> {
    const key = bytes(this.#ctx.keys.node(this.nodeId));
    const put = nodePut(key, this.#node, leaseId);
    for (
      const compare of [
        { target: CompareTarget.Create, create_revision: 0 },
        { target: CompareTarget.Lease, lease: oldLease },
      ]
    ) {
      const answer = await this.#ctx.client.kv.txn({
        compare: [{ key, result: CompareResult.Equal, ...compare }],
        success: [put],
      });
      if (answer.succeeded) return;
    }
    throw new NodeIdTakenError(this.nodeId);
  }

  #regranted(): void {
    this.#rewriting = undefined;
    this.#ctx.stats.leaseRegrants++;
    this.#ctx.log.info("lease regranted", {
      nodeId: this.nodeId,
      leaseId: this.#keeper.leaseId,
      users: this.#desired.size,
      ms: Date.now() - this.#lostAt,
    });
    // If the old lease was alive after all, it still holds keys of users who
    // left meanwhile: revoking it removes them.
    const stale = this.#staleLease;
    this.#staleLease = undefined;
    if (stale !== undefined) void revoke(this.#ctx, stale);
  }

  async #leave(): Promise<void> {
    const users = this.#desired.size;
    this.#state = "left";
    this.#generation++;
    this.#closed.abort();
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    await this.#keeper.stop();
    await revoke(this.#ctx, this.#keeper.leaseId);
    const error = new RegistryClosedError(
      `node "${this.nodeId}" left the registry`,
    );
    for (const [user, waiters] of this.#waiters) {
      // A pending unregister is done: the revoked lease took the key.
      const settle = this.#desired.has(user)
        ? (waiter: Waiter) => waiter.reject(error)
        : (waiter: Waiter) => waiter.resolve();
      waiters.forEach(settle);
    }
    for (const waiter of this.#nodeWaiters) waiter.reject(error);
    this.#waiters.clear();
    this.#nodeWaiters = [];
    this.#desired.clear();
    this.#dirty.clear();
    this.#persisted.clear();
    this.#rewriting = undefined;
    this.#ctx.log.info("left the registry", { nodeId: this.nodeId, users });
  }
}

function nodePut(key: Uint8Array, node: NodeRecord, lease: string): IRequestOp {
  return {
    request_put: {
      key: bytes(key),
      value: bytes(encodeNodeValue(node)),
      lease,
    },
  };
}

/**
 * Deadline of a lease revoke. Revoking deletes every key of the lease in one
 * raft entry: ~0.9 s for 100k keys here, ~2 s with a watcher to feed, so the
 * usual call deadline is too short for a big node.
 */
const REVOKE_TIMEOUT = 30_000;

/** Revokes `leaseId`, best effort: failing that, its keys expire with it. */
async function revoke(ctx: EtcdContext, leaseId: string): Promise<void> {
  try {
    await ctx.client.leaseClient.leaseRevoke({ ID: leaseId }, {
      deadline: Date.now() + REVOKE_TIMEOUT,
    });
  } catch (error) {
    if (!isLeaseNotFound(error)) {
      ctx.log.warn("lease revoke failed; its keys expire with it", {
        leaseId,
        error,
      });
    }
  }
}
