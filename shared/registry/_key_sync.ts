/**
 * The bookkeeping behind a coalescing membership, without any I/O: what etcd
 * should hold (desired), what it is known to hold under the current lease
 * (persisted), which users differ (dirty), which are on the wire, and who
 * waits for which. Private to `shared/registry/`.
 *
 * @module
 */

/** One op of a txn: the node record, or one user's key (put or delete). */
export type SyncOp =
  | { node: true }
  | { user: string; put: boolean; version: number };

/** What etcd should hold for one user of this node. */
export type DesiredUser = {
  /** Ms since epoch the user was first registered here. */
  since: number;
  /** The user's connections on this node. */
  devices: readonly DeviceRef[];
  /** Bumped on every change, so a txn knows which value it wrote. */
  version: number;
};

import type { DeviceRef } from "./registry.ts";

type Waiter = { resolve: () => void; reject: (error: Error) => void };

/**
 * Brings etcd in line with a desired set of users, a batch at a time. The
 * desired set is the source of truth: a register followed by an unregister
 * before anything was sent sends nothing, and after a lease loss
 * {@link KeySync.forget} makes every desired user dirty again.
 */
export class KeySync {
  /** What etcd should hold, user by user. */
  readonly desired = new Map<string, DesiredUser>();
  /** user → version of its value etcd holds under the current lease. */
  readonly #persisted = new Map<string, number>();
  #version = 0;
  /** Users whose desired and persisted state may differ, oldest first. */
  readonly #dirty = new Set<string>();
  /** Users in a txn on the wire: never in two at once. */
  readonly #inflight = new Set<string>();
  readonly #waiters = new Map<string, Waiter[]>();
  #nodeDirty = false;
  #nodeInflight = false;
  #nodeWaiters: Waiter[] = [];
  #rewriting: Set<string> | undefined;

  /** Users desired at the last {@link forget} and not yet rewritten. */
  get rewriting(): number {
    return this.#rewriting?.size ?? 0;
  }

  /**
   * Wants `user` present (with its connections on this node) or absent;
   * resolves once etcd agrees.
   */
  want(
    user: string,
    present: boolean,
    devices: readonly DeviceRef[] = [],
  ): Promise<void> {
    if (!present) this.desired.delete(user);
    else {
      const current = this.desired.get(user);
      if (!current || !sameDevices(current.devices, devices)) {
        const since = current?.since ?? Date.now();
        this.desired.set(user, { since, devices, version: ++this.#version });
      }
    }
    if (this.#converged(user)) {
      this.#settle(user);
      return Promise.resolve();
    }
    this.#dirty.add(user);
    return new Promise((resolve, reject) => {
      const waiters = this.#waiters.get(user);
      if (waiters) waiters.push({ resolve, reject });
      else this.#waiters.set(user, [{ resolve, reject }]);
    });
  }

  /** The node record changed; resolves once etcd holds the new one. */
  wantNode(): Promise<void> {
    this.#nodeDirty = true;
    return new Promise((resolve, reject) =>
      this.#nodeWaiters.push({ resolve, reject })
    );
  }

  /** The next txn's ops (at most `max`), marked in flight; none when idle. */
  take(max: number): SyncOp[] | undefined {
    const ops: SyncOp[] = [];
    if (this.#nodeDirty && !this.#nodeInflight) {
      this.#nodeDirty = false;
      this.#nodeInflight = true;
      ops.push({ node: true });
    }
    for (const user of this.#dirty) {
      if (ops.length >= max) break;
      if (this.#inflight.has(user)) continue; // dirty again while in flight
      if (this.#converged(user)) {
        this.#settle(user);
        continue;
      }
      const desired = this.desired.get(user);
      this.#dirty.delete(user);
      this.#inflight.add(user);
      ops.push({
        user,
        put: desired !== undefined,
        version: desired?.version ?? 0,
      });
    }
    return ops.length > 0 ? ops : undefined;
  }

  /** The txn holding `ops` landed: record it and settle who is done. */
  landed(ops: SyncOp[]): void {
    for (const op of ops) {
      if ("node" in op) {
        this.#nodeInflight = false;
        if (!this.#nodeDirty) {
          for (const waiter of this.#nodeWaiters.splice(0)) waiter.resolve();
        }
        continue;
      }
      if (op.put) this.#persisted.set(op.user, op.version);
      else this.#persisted.delete(op.user);
      this.#inflight.delete(op.user);
      if (this.#converged(op.user)) this.#settle(op.user);
      else this.#dirty.add(op.user);
    }
  }

  /** The txn holding `ops` did not land (or landed on a lost lease): redo. */
  requeue(ops: SyncOp[]): void {
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

  /** etcd will never accept `ops`: reject their callers instead of looping. */
  refuse(ops: SyncOp[], error: Error): void {
    for (const op of ops) {
      if ("node" in op) {
        this.#nodeInflight = false;
        for (const waiter of this.#nodeWaiters.splice(0)) waiter.reject(error);
        continue;
      }
      this.#inflight.delete(op.user);
      this.#dirty.delete(op.user);
      for (const waiter of this.#waiters.get(op.user) ?? []) {
        waiter.reject(error);
      }
      this.#waiters.delete(op.user);
    }
  }

  /** A new lease holds nothing yet: every desired user must be written again. */
  forget(): void {
    this.#persisted.clear();
    for (const user of this.desired.keys()) this.#dirty.add(user);
    this.#rewriting = new Set(this.desired.keys());
  }

  /**
   * The lease is revoked and nothing will be written again: pending
   * unregisters are done (the revoke took the keys), the rest rejects.
   */
  close(error: Error): void {
    for (const [user, waiters] of this.#waiters) {
      const done = this.desired.has(user)
        ? (waiter: Waiter) => waiter.reject(error)
        : (waiter: Waiter) => waiter.resolve();
      waiters.forEach(done);
    }
    for (const waiter of this.#nodeWaiters) waiter.reject(error);
    this.#waiters.clear();
    this.#nodeWaiters = [];
    this.#nodeDirty = false;
    this.#nodeInflight = false;
    this.desired.clear();
    this.#persisted.clear();
    this.#dirty.clear();
    this.#inflight.clear();
    this.#rewriting = undefined;
  }

  #converged(user: string): boolean {
    return !this.#inflight.has(user) &&
      this.desired.get(user)?.version === this.#persisted.get(user);
  }

  #settle(user: string): void {
    this.#dirty.delete(user);
    this.#rewriting?.delete(user);
    const waiters = this.#waiters.get(user);
    if (!waiters) return;
    this.#waiters.delete(user);
    for (const waiter of waiters) waiter.resolve();
  }
}

function sameDevices(
  a: readonly DeviceRef[],
  b: readonly DeviceRef[],
): boolean {
  return a.length === b.length &&
    a.every((d, i) =>
      d.connId === b[i]!.connId && d.connectedAt === b[i]!.connectedAt
    );
}
